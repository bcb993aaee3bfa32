package idcard

import (
	"errors"
	"fmt"
)

// Classes: every error the package returns is one of these (errors.Is), so a
// caller knows what to do without reading the detail.
var (
	// ErrDeviceFault: the reader itself is unusable (unplugged, not
	// answering, its SAM failed). The lane is in fault until it recovers.
	ErrDeviceFault = errors.New("idcard: device fault")
	// ErrCardFault: this card could not be read this time (moved away,
	// authentication failed, unknown card type); the next presentation may
	// work.
	ErrCardFault = errors.New("idcard: card fault")
	// ErrProtocol: the reader and the host disagree on the protocol (the
	// reader rejected our frame, or its reply cannot be decoded).
	ErrProtocol = errors.New("idcard: protocol error")
)

// Sentinels, each in one class.
var (
	ErrUnplugged     = &classError{"idcard: reader unplugged", ErrDeviceFault}
	ErrNotResponding = &classError{"idcard: reader not answering (SAM status unanswered)", ErrDeviceFault}
	ErrTimeout       = &classError{"idcard: no reply in time", ErrProtocol}
	ErrBadFrame      = &classError{"idcard: bad frame", ErrProtocol}
	ErrBadReply      = &classError{"idcard: reply cannot be decoded", ErrProtocol}
	ErrBadCardData   = &classError{"idcard: card data cannot be decoded", ErrCardFault}
	ErrClosed        = &classError{"idcard: device closed", ErrDeviceFault}
)

// Sentinels for the reader's SW3 statuses; a StatusError unwraps to one of
// them and to its class.
var (
	ErrNoContent        = &classError{"idcard: no content for this item", ErrCardFault}                // 91
	ErrHostChecksum     = &classError{"idcard: reader saw a checksum error in our frame", ErrProtocol} // 10
	ErrHostLength       = &classError{"idcard: reader saw a length error in our frame", ErrProtocol}   // 11
	ErrUnknownCommand   = &classError{"idcard: command not understood", ErrProtocol}                   // 21
	ErrNotPermitted     = &classError{"idcard: operation not permitted", ErrProtocol}                  // 23
	ErrUnrecognised     = &classError{"idcard: unrecognised error", ErrProtocol}                       // 24
	ErrCardAuthSAM      = &classError{"idcard: card failed to authenticate the SAM", ErrCardFault}     // 31
	ErrSAMAuthCard      = &classError{"idcard: SAM failed to authenticate the card", ErrCardFault}     // 32
	ErrVerification     = &classError{"idcard: information verification error", ErrCardFault}          // 33
	ErrUnknownCardType  = &classError{"idcard: unknown card type", ErrCardFault}                       // 40
	ErrReadFailed       = &classError{"idcard: read failed (card moved away)", ErrCardFault}           // 41
	ErrRandom           = &classError{"idcard: random number failed", ErrCardFault}                    // 47
	ErrSAMSelfTest      = &classError{"idcard: SAM self-test failed", ErrDeviceFault}                  // 60
	ErrSAMNotAuthorised = &classError{"idcard: SAM not authorised", ErrDeviceFault}                    // 66
	ErrNoCard           = &classError{"idcard: no card found", ErrCardFault}                           // 80
	ErrSelectFailed     = &classError{"idcard: select card failed", ErrCardFault}                      // 81
	ErrUnknownStatus    = &classError{"idcard: unknown status", ErrProtocol}                           // anything else
)

// classError is a sentinel that belongs to a class.
type classError struct {
	msg   string
	class error
}

func (e *classError) Error() string { return e.msg }
func (e *classError) Unwrap() error { return e.class }

// statusErrors maps SW3 to its sentinel. 90 and 9F are success.
var statusErrors = map[byte]error{
	0x91: ErrNoContent,
	0x10: ErrHostChecksum,
	0x11: ErrHostLength,
	0x21: ErrUnknownCommand,
	0x23: ErrNotPermitted,
	0x24: ErrUnrecognised,
	0x31: ErrCardAuthSAM,
	0x32: ErrSAMAuthCard,
	0x33: ErrVerification,
	0x40: ErrUnknownCardType,
	0x41: ErrReadFailed,
	0x47: ErrRandom,
	0x60: ErrSAMSelfTest,
	0x66: ErrSAMNotAuthorised,
	0x80: ErrNoCard,
	0x81: ErrSelectFailed,
}

// StatusError is a reply whose SW3 is not the success the command expects.
type StatusError struct {
	Command Command
	SW3     byte
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%v (SW3 %02X after %v)", e.Unwrap(), e.SW3, e.Command)
}

// Unwrap returns the status's sentinel (which unwraps to its class).
func (e *StatusError) Unwrap() error {
	if s, ok := statusErrors[e.SW3]; ok {
		return s
	}
	return ErrUnknownStatus
}

// StatusErr returns the error for a reply to c with status sw3: nil for 90
// and 9F, a *StatusError otherwise.
func StatusErr(c Command, sw3 byte) error {
	if sw3 == 0x90 || sw3 == 0x9F {
		return nil
	}
	return &StatusError{Command: c, SW3: sw3}
}
