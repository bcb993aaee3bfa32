package uplink

// Several brokers (docs/uplink.md, "Several brokers"): the uplink is on one
// broker at a time, the first of Config.Brokers at start. When it cannot
// connect, or its connection drops, the next connection is made to the
// next broker of the list (round and round). Nothing else changes: every
// connection starts the outbox from its first unsent message, a message is
// marked sent only on its PUBACK on an unbroken connection, so a message
// sent to a node that died before it acknowledged is sent again, with the
// same id, to the next. The status says which broker the gate is on.

// brokerList is the brokers in order, first the single broker when given,
// without repeats or empty entries.
func brokerList(first string, more []string) []string {
	var out []string
	for _, b := range append([]string{first}, more...) {
		if b == "" {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == b
		}
		if !dup {
			out = append(out, b)
		}
	}
	return out
}

// broker is the broker the next connection is made to.
func (u *Uplink) broker() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.cfg.Brokers[u.brokerAt]
}

// failover moves the next connection to the next broker, when there are
// several.
func (u *Uplink) failover() {
	u.mu.Lock()
	n := len(u.cfg.Brokers)
	if n < 2 {
		u.mu.Unlock()
		return
	}
	from := u.cfg.Brokers[u.brokerAt]
	u.brokerAt = (u.brokerAt + 1) % n
	to := u.cfg.Brokers[u.brokerAt]
	u.mu.Unlock()
	u.log.Warn("mqtt: trying the next broker", "from", from, "to", to)
}
