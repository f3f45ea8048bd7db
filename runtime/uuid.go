package runtime

import (
	"crypto/rand"
	"time"
)

// newV7 returns a UUIDv7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then
// random bits, so execution ids sort by creation time. It fills an array on
// the stack where a UUID library would allocate.
func newV7(now time.Time) ([16]byte, error) {
	var u [16]byte
	if _, err := rand.Read(u[6:]); err != nil {
		return u, err
	}
	ms := uint64(now.UnixMilli())
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // variant 10
	return u, nil
}
