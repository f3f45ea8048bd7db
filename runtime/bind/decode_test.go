package bind

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/jsonscan"
)

type order struct {
	Name  string        `json:"name"`
	Count uint8         `json:"count"`
	Items []item        `json:"items"`
	Wait  time.Duration `json:"wait"`
	Tag   string        `json:"tag"`
}

type item struct {
	SKU string  `json:"sku"`
	Qty float64 `json:"qty"`
}

func jsonInput(body string) *Input {
	in, _ := NewInput(&bifrost.Request{Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)})
	return in
}

// decode runs UnmarshalBody and TypeError as a generated decoder does
// (without the walk, which would name kind errors first).
func decode(t *testing.T, body string) (order, *FieldErrors, bool) {
	t.Helper()
	var o order
	var errs FieldErrors
	ok, valueErr := UnmarshalBody(jsonInput(body), &errs, &o)
	if ok {
		TypeError(&errs, valueErr)
	}
	return o, &errs, ok
}

func TestUnmarshalBodyDecodes(t *testing.T) {
	o, errs, ok := decode(t, `{"name":"a","count":3,"items":[{"sku":"x","qty":1.5}],"wait":2000000000,"tag":"\ud83d"}`)
	if !ok || errs.Len() != 0 {
		t.Fatalf("ok=%v errors=%v", ok, errs.list)
	}
	if o.Name != "a" || o.Count != 3 || len(o.Items) != 1 || o.Items[0].Qty != 1.5 {
		t.Errorf("decoded %+v", o)
	}
	// time.Duration is nanoseconds, as encoding/json and the OpenAPI
	// document have it; a lone surrogate escape becomes U+FFFD.
	if o.Wait != 2*time.Second || o.Tag != "\uFFFD" {
		t.Errorf("wait %v, tag %q", o.Wait, o.Tag)
	}
}

func TestUnmarshalBodyNamesMatchExactly(t *testing.T) {
	o, errs, ok := decode(t, `{"Name":"a","NAME":"b"}`)
	if !ok || errs.Len() != 0 || o.Name != "" {
		t.Errorf("ok=%v errors=%v name=%q: a name in another case is an unknown member", ok, errs.list, o.Name)
	}
}

func TestUnmarshalBodyMalformed(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"name":"a","name":"b"}`, `duplicate object member name "name"`},
		{`{"count":300,"name":"a","name":"b"}`, `duplicate object member name "name"`}, // after a value that does not fit
		{`{"count":300} x`, `invalid character 'x'`},
		{`{"name":`, `unexpected EOF`},
	} {
		_, errs, ok := decode(t, tc.body)
		if ok || errs.Len() != 1 || errs.list[0].Location != "body" ||
			!strings.HasPrefix(errs.list[0].Message, "malformed JSON: ") || !strings.Contains(errs.list[0].Message, tc.want) {
			t.Errorf("%s: ok=%v errors=%v, want one malformed JSON error with %q", tc.body, ok, errs.list, tc.want)
		}
	}
}

func TestUnmarshalBodyValueThatDoesNotFit(t *testing.T) {
	for _, tc := range []struct{ body, location, message string }{
		{`{"count":300,"name":"a"}`, "body.count", "cannot hold number 300 as uint8"},
		{`{"items":[{"sku":"x"},{"qty":1e400}],"name":"a"}`, "body.items[1].qty", "cannot hold number 1e400 as float64"},
	} {
		o, errs, ok := decode(t, tc.body)
		if !ok || errs.Len() != 1 || errs.list[0].Location != tc.location || errs.list[0].Message != tc.message {
			t.Errorf("%s: ok=%v errors=%v, want %s: %s", tc.body, ok, errs.list, tc.location, tc.message)
		}
		// Decoding went on past the value: the members after it are there
		// for their rules, and only the member holding it is not checked.
		if o.Name != "a" || !errs.Partial() {
			t.Errorf("%s: name %q partial %v", tc.body, o.Name, errs.Partial())
		}
		top := &Path{Key: "body"}
		if errs.Valid(top, strings.Split(strings.TrimPrefix(tc.location, "body."), "[")[0]) || !errs.Valid(top, "name") {
			t.Errorf("%s: Valid is wrong about %s or name", tc.body, tc.location)
		}
	}
}

func TestPointerPathReadsIndexesOffTheBody(t *testing.T) {
	body := []byte(`{"2":{"a":[0,{"b":1}]}}`)
	if got := pointerPath(body, "/2/a/1/b"); got != "body.2.a[1].b" {
		t.Errorf("got %q", got)
	}
	if got := pointerPath(body, "/2/missing"); got != "body.2" {
		t.Errorf("got %q for a token the body lacks", got)
	}
}

// Members read one by one (a workflow whose body members are scalar
// parameters) follow the rules UnmarshalBody decodes by: a malformed body,
// a duplicate name included, is one error at "body".
func TestBodyValueChecksTheBodyOnce(t *testing.T) {
	read := func(body string) (string, int, *FieldErrors) {
		in := jsonInput(body)
		var errs FieldErrors
		var name string
		var count int
		BodyValue(in, &errs, "name", jsonscan.String, ParseString[string], &name)
		BodyValue(in, &errs, "count", jsonscan.Number, ParseInt[int], &count)
		return name, count, &errs
	}
	if name, count, errs := read(`{"name":"a","count":2}`); errs.Len() != 0 || name != "a" || count != 2 {
		t.Errorf("got %q %d %v", name, count, errs.list)
	}
	for _, body := range []string{`{"name":"a","count":2,"name":"b"}`, `{"name":"a","count":`} {
		name, count, errs := read(body)
		if errs.Len() != 1 || errs.list[0].Location != "body" || !strings.HasPrefix(errs.list[0].Message, "malformed JSON: ") || name != "" || count != 0 {
			t.Errorf("%s: got %q %d %v, want one malformed JSON error and nothing read", body, name, count, errs.list)
		}
	}
}
