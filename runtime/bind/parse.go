package bind

import (
	"encoding"
	"errors"
	"strconv"
	"time"
	"unsafe"
)

// Parsers for scalar parameters: each turns the text of a query parameter,
// header, form field or JSON scalar into a value of T, with an error message
// fit to show the caller. They are generic over named types, so a
// `type Level int` parameter is parsed by ParseInt[Level].

// ParseString returns s as a T.
func ParseString[T ~string](s string) (T, error) { return T(s), nil }

var (
	errBool     = errors.New("expected boolean")
	errInt      = errors.New("expected integer")
	errUint     = errors.New("expected non-negative integer")
	errFloat    = errors.New("expected number")
	errTime     = errors.New("expected RFC 3339 date-time, such as 2026-01-02T15:04:05Z")
	errDuration = errors.New("expected duration, such as 1m30s")
)

// ParseBool parses true/false (and the other forms of strconv.ParseBool).
func ParseBool[T ~bool](s string) (T, error) {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, errBool
	}
	return T(v), nil
}

// ParseInt parses a decimal integer that fits T.
func ParseInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](s string) (T, error) {
	var zero T
	v, err := strconv.ParseInt(s, 10, int(unsafe.Sizeof(zero))*8)
	if err != nil {
		return zero, rangeOr(err, errInt)
	}
	return T(v), nil
}

// ParseUint parses a non-negative decimal integer that fits T.
func ParseUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64](s string) (T, error) {
	var zero T
	v, err := strconv.ParseUint(s, 10, int(unsafe.Sizeof(zero))*8)
	if err != nil {
		return zero, rangeOr(err, errUint)
	}
	return T(v), nil
}

// ParseFloat parses a decimal number.
func ParseFloat[T ~float32 | ~float64](s string) (T, error) {
	var zero T
	v, err := strconv.ParseFloat(s, int(unsafe.Sizeof(zero))*8)
	if err != nil {
		return zero, rangeOr(err, errFloat)
	}
	return T(v), nil
}

func rangeOr(err, otherwise error) error {
	if errors.Is(err, strconv.ErrRange) {
		return errors.New("out of range")
	}
	return otherwise
}

// ParseTime parses an RFC 3339 date-time.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errTime
	}
	return t, nil
}

// ParseDuration parses a Go duration such as 1m30s.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errDuration
	}
	return d, nil
}

// ParseText parses s with T's UnmarshalText (netip.Addr, uuid.UUID, ...).
func ParseText[T any, PT interface {
	*T
	encoding.TextUnmarshaler
}](s string) (T, error) {
	var v T
	if err := PT(&v).UnmarshalText([]byte(s)); err != nil {
		return v, errors.New("invalid value: " + err.Error())
	}
	return v, nil
}
