package bind

// Ptr returns a pointer to v: the default of an optional (pointer) input.
func Ptr[T any](v T) *T { return &v }
