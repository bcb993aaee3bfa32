package lane

// Unhandled is an event Step has no case for, as a new event type added
// without teaching Step would be; the tests send it to see it rejected.
type Unhandled struct{}

func (Unhandled) isEvent()       {}
func (Unhandled) String() string { return "Unhandled" }
