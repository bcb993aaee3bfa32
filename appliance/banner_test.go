package appliance

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Placeholders are found in values, with their line and key; a comment
// that mentions one is not a placeholder.
func TestPlaceholders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.yaml")
	text := "# replace every change-me below\nmqtt:\n  password: change-me\n  - {plate_token: change-me-too}\nkiosk: {listen: \":8080\"} # not change-me\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	got := placeholders(path)
	if len(got) != 2 || got[0] != (placeholderAt{3, "password"}) || got[1] != (placeholderAt{4, "plate_token"}) {
		t.Fatalf("placeholders %+v", got)
	}
}

func TestReachableURLAndHostPort(t *testing.T) {
	if got := reachableURL("http", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}); got != "http://127.0.0.1:8080" {
		t.Fatalf("loopback: %s", got)
	}
	if got := reachableURL("https", &net.TCPAddr{IP: net.IPv4zero, Port: 8443}); !strings.HasPrefix(got, "https://") || strings.Contains(got, "0.0.0.0") || !strings.HasSuffix(got, ":8443") {
		t.Fatalf("every address: %s", got)
	}
	for in, want := range map[string]string{
		"http://192.0.2.21/ISAPI/x": "192.0.2.21:80", "https://face.example/v1": "face.example:443",
		"http://127.0.0.1:9600/v1/match": "127.0.0.1:9600", "": "",
	} {
		if got := hostPort(in); got != want {
			t.Errorf("hostPort(%q) = %q, want %q", in, got, want)
		}
	}
}
