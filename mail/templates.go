package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
	"time"
)

// The kinds of account email; each has <kind>.subject.txt, <kind>.txt and
// <kind>.html templates, and the constant's value is that <kind>.
const (
	// KindVerifyEmail asks the user to confirm their email address.
	KindVerifyEmail = "verify-email"
	// KindResetPassword carries a password-reset link.
	KindResetPassword = "reset-password"
	// KindChangeEmail asks the user to confirm a change of email address
	// (Data.NewEmail is the requested address).
	KindChangeEmail = "change-email"
	// KindDeleteAccount asks the user to confirm deleting their account.
	KindDeleteAccount = "delete-account"
	// KindTwoFactorOTP carries a two-factor sign-in code (Data.Code), valid for ExpiresIn.
	KindTwoFactorOTP = "two-factor-otp"
	// The e-mail OTP plugin's codes (Data.Code), valid for ExpiresIn, one kind per code type:
	// to sign in, to verify the address, to reset the password, to change the address (Email is
	// the new address).
	KindEmailOTPSignIn            = "email-otp-sign-in"
	KindEmailOTPEmailVerification = "email-otp-email-verification"
	KindEmailOTPForgetPassword    = "email-otp-forget-password"
	KindEmailOTPChangeEmail       = "email-otp-change-email"
	// KindMagicLink carries a sign-in link (URL), valid once and for ExpiresIn.
	KindMagicLink = "magic-link"
	// KindOrganizationInvitation invites Email into an organization (Data.Organization, invited
	// by Data.Inviter, as Data.Role); URL is the web app's accept page.
	KindOrganizationInvitation = "organization-invitation"
)

// embedded holds the default templates. It is package-level only because
// go:embed requires it; it is read-only.
//
//go:embed templates/*
var embedded embed.FS

// Data is what templates see. AppName defaults to the name given to
// LoadTemplates and Email to the recipient; ExpiresIn is rendered by the
// "human" template function (e.g. "1 hour", "15 minutes"), zero = not shown.
// AccountEmail is set on a verify-email message only when Email is to become
// the address of an existing account (change-email): it is that account's
// address before the change, so the recipient learns whose account they would
// join. It is empty when a user verifies their own address.
//
// Code is the one-time code of a code message (two-factor-otp, email-otp-*); it has no URL.
type Data struct {
	AppName, URL, Email, NewEmail, AccountEmail, Code string
	// Organization, Inviter, InviterEmail and Role describe an organization invitation.
	Organization, Inviter, InviterEmail, Role string
	ExpiresIn                                 time.Duration
}

// Templates renders account emails. It is immutable after LoadTemplates and
// safe for concurrent use.
type Templates struct {
	appName string
	kinds   map[string]kindTemplates
}

type kindTemplates struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
}

// LoadTemplates parses the embedded default templates, replacing each with
// the file of the same name in dir when dir is non-empty and holds it (any
// subset may be overridden). dir must exist when given. Every template is
// parsed here, so a broken override fails at startup, not when mail is sent.
func LoadTemplates(dir, appName string) (*Templates, error) {
	if dir != "" {
		if st, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("mail: template dir: %w", err)
		} else if !st.IsDir() {
			return nil, fmt.Errorf("mail: template dir %q is not a directory", dir)
		}
	}
	load := func(name string) (string, error) {
		if dir != "" {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err == nil {
				return string(b), nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("mail: read template override %s: %w", name, err)
			}
		}
		b, err := embedded.ReadFile("templates/" + name)
		if err != nil {
			return "", fmt.Errorf("mail: read embedded template %s: %w", name, err)
		}
		return string(b), nil
	}
	funcs := map[string]any{"human": humanDuration}
	t := &Templates{appName: appName, kinds: map[string]kindTemplates{}}
	for _, kind := range []string{KindVerifyEmail, KindResetPassword, KindChangeEmail, KindDeleteAccount, KindTwoFactorOTP, KindMagicLink, KindOrganizationInvitation,
		KindEmailOTPSignIn, KindEmailOTPEmailVerification, KindEmailOTPForgetPassword, KindEmailOTPChangeEmail} {
		var kt kindTemplates
		for _, name := range []string{kind + ".subject.txt", kind + ".txt"} {
			src, err := load(name)
			if err != nil {
				return nil, err
			}
			tt, err := texttemplate.New(name).Funcs(funcs).Parse(src)
			if err != nil {
				return nil, fmt.Errorf("mail: parse template %s: %w", name, err)
			}
			if strings.HasPrefix(name, kind+".subject") {
				kt.subject = tt
			} else {
				kt.text = tt
			}
		}
		name := kind + ".html"
		src, err := load(name)
		if err != nil {
			return nil, err
		}
		if kt.html, err = htmltemplate.New(name).Funcs(funcs).Parse(src); err != nil {
			return nil, fmt.Errorf("mail: parse template %s: %w", name, err)
		}
		t.kinds[kind] = kt
	}
	return t, nil
}

// Render executes the templates of kind (one of the Kind constants) for the
// recipient to. The subject is folded to one line so a template cannot
// inject headers; the HTML part is escaped by html/template.
func (t *Templates) Render(kind, to string, d Data) (Message, error) {
	kt, ok := t.kinds[kind]
	if !ok {
		return Message{}, fmt.Errorf("mail: unknown template kind %q", kind)
	}
	if d.AppName == "" {
		d.AppName = t.appName
	}
	if d.Email == "" {
		d.Email = to
	}
	var subj, text, html bytes.Buffer
	if err := kt.subject.Execute(&subj, d); err != nil {
		return Message{}, fmt.Errorf("mail: render %s subject: %w", kind, err)
	}
	if err := kt.text.Execute(&text, d); err != nil {
		return Message{}, fmt.Errorf("mail: render %s text: %w", kind, err)
	}
	if err := kt.html.Execute(&html, d); err != nil {
		return Message{}, fmt.Errorf("mail: render %s html: %w", kind, err)
	}
	return Message{
		To:      to,
		Subject: strings.Join(strings.Fields(subj.String()), " "),
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
}

// humanDuration renders d for people: whole days or hours when exact,
// otherwise whole minutes rounded down, so the email never promises more
// time than the link really has.
func humanDuration(d time.Duration) string {
	unit := func(n int64, word string) string {
		if n == 1 {
			return "1 " + word
		}
		return fmt.Sprintf("%d %ss", n, word)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	default:
		return unit(max(1, int64(d/time.Minute)), "minute")
	}
}
