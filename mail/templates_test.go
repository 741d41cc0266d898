package mail

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTemplatesDefaults(t *testing.T) {
	tpl, err := LoadTemplates("", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{KindVerifyEmail, KindResetPassword, KindChangeEmail, KindDeleteAccount} {
		m, err := tpl.Render(kind, "alice@example.com", Data{URL: testLink, NewEmail: "new@example.com", ExpiresIn: 2 * time.Hour})
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if m.To != "alice@example.com" || m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") {
			t.Errorf("%s: to=%q subject=%q", kind, m.To, m.Subject)
		}
		if !strings.Contains(m.Subject, "Acme") || !strings.Contains(m.Text, "Acme") || !strings.Contains(m.HTML, "Acme") {
			t.Errorf("%s: app name missing", kind)
		}
		for _, part := range []string{m.Text, m.HTML} {
			for _, want := range []string{"expires in 2 hours", "If you did not ask for this, ignore this email."} {
				if !strings.Contains(part, want) {
					t.Errorf("%s: part lacks %q:\n%s", kind, want, part)
				}
			}
		}
		if !strings.Contains(m.Text, testLink) || !strings.Contains(m.HTML, `href="`+testLink+`"`) {
			t.Errorf("%s: link missing", kind)
		}
		if kind == KindChangeEmail && !strings.Contains(m.Text, "new@example.com") {
			t.Errorf("%s: new email missing:\n%s", kind, m.Text)
		}
	}
	if _, err := tpl.Render("nope", "a@example.com", Data{}); err == nil {
		t.Error("unknown kind rendered")
	}
}

func TestTemplatesAppNameFromData(t *testing.T) {
	tpl, err := LoadTemplates("", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	m, err := tpl.Render(KindResetPassword, "a@example.com", Data{AppName: "Other", URL: testLink})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Subject, "Other") || strings.Contains(m.Text, "expires") {
		t.Errorf("subject=%q text=%q", m.Subject, m.Text)
	}
}

func TestTemplatesHTMLEscaping(t *testing.T) {
	tpl, err := LoadTemplates("", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	evil := `https://x.example/"><script>alert(1)</script>`
	m, err := tpl.Render(KindVerifyEmail, "a@example.com", Data{URL: evil, AppName: "<b>Acme</b>"})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`"><script>`, "<script>", "<b>Acme</b>"} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("html part contains unescaped %q:\n%s", bad, m.HTML)
		}
	}
	if !strings.Contains(m.HTML, "&lt;script&gt;") {
		t.Errorf("html part lacks escaped URL text:\n%s", m.HTML)
	}
}

func TestTemplatesOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "reset-password.subject.txt"), []byte("Custom reset for {{.AppName}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tpl, err := LoadTemplates(dir, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	m, err := tpl.Render(KindResetPassword, "a@example.com", Data{URL: testLink})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Custom reset for Acme" {
		t.Errorf("subject = %q", m.Subject)
	}
	if !strings.Contains(m.Text, testLink) {
		t.Errorf("default body not kept:\n%s", m.Text)
	}
	m, err = tpl.Render(KindVerifyEmail, "a@example.com", Data{URL: testLink})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Verify your email for Acme" {
		t.Errorf("other kind changed: %q", m.Subject)
	}
}

func TestTemplatesBrokenOverride(t *testing.T) {
	for _, name := range []string{"verify-email.html", "delete-account.txt"} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{{.URL"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadTemplates(dir, "Acme")
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want parse error naming the file", name, err)
		}
	}
	if _, err := LoadTemplates(filepath.Join(t.TempDir(), "missing"), "Acme"); err == nil {
		t.Error("missing template dir accepted")
	}
}

func TestHumanDuration(t *testing.T) {
	cases := map[time.Duration]string{
		time.Hour:        "1 hour",
		3 * time.Hour:    "3 hours",
		24 * time.Hour:   "1 day",
		72 * time.Hour:   "3 days",
		15 * time.Minute: "15 minutes",
		90 * time.Minute: "90 minutes",
		time.Minute:      "1 minute",
		10 * time.Second: "1 minute",
	}
	for d, want := range cases {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
