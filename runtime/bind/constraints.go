package bind

import (
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Checks for the constraint tags of body fields (minLength, maxLength,
// pattern, format). Numeric bounds and enums are plain comparisons in the
// generated code.

// MinLength records an error when s has fewer than n characters (code points,
// as JSON Schema counts them).
func MinLength(errs *FieldErrors, s string, n int, at *Path, key string) {
	if utf8.RuneCountInString(s) < n {
		errs.AddAt(at, key, "must be at least "+strconv.Itoa(n)+" characters long")
	}
}

// MaxLength records an error when s has more than n characters.
func MaxLength(errs *FieldErrors, s string, n int, at *Path, key string) {
	if utf8.RuneCountInString(s) > n {
		errs.AddAt(at, key, "must be at most "+strconv.Itoa(n)+" characters long")
	}
}

// Pattern records an error when s does not match re.
func Pattern(errs *FieldErrors, s string, re *regexp.Regexp, at *Path, key string) {
	if !re.MatchString(s) {
		errs.AddAt(at, key, "must match "+re.String())
	}
}

// Formats are the values of the format tag that the runtime checks.
var Formats = map[string]func(string) bool{
	"date-time": func(s string) bool { _, err := time.Parse(time.RFC3339Nano, s); return err == nil },
	"date":      func(s string) bool { _, err := time.Parse(time.DateOnly, s); return err == nil },
	"time":      func(s string) bool { _, err := time.Parse("15:04:05Z07:00", s); return err == nil },
	"email": func(s string) bool {
		a, err := mail.ParseAddress(s)
		return err == nil && a.Name == "" && a.Address == s
	},
	"uri": func(s string) bool {
		u, err := url.Parse(s)
		return err == nil && u.Scheme != "" && u.IsAbs()
	},
	"uuid": func(s string) bool {
		if len(s) != 36 {
			return false
		}
		for i, c := range s {
			switch {
			case i == 8 || i == 13 || i == 18 || i == 23:
				if c != '-' {
					return false
				}
			case !strings.ContainsRune("0123456789abcdefABCDEF", c):
				return false
			}
		}
		return true
	},
	"ipv4": func(s string) bool { a, err := netip.ParseAddr(s); return err == nil && a.Is4() },
	"ipv6": func(s string) bool { a, err := netip.ParseAddr(s); return err == nil && a.Is6() },
	"hostname": func(s string) bool {
		if s == "" || len(s) > 253 {
			return false
		}
		for _, label := range strings.Split(s, ".") {
			if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
				return false
			}
			for _, c := range label {
				if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
					return false
				}
			}
		}
		return true
	},
}

// Format records an error when s is not a valid value of format.
func Format(errs *FieldErrors, s, format string, at *Path, key string) {
	if check, ok := Formats[format]; ok && !check(s) {
		errs.AddAt(at, key, "must be a valid "+format)
	}
}
