package passkey

import (
	"slices"
	"testing"
)

func TestLoadConfigDefaults(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	c, err := LoadConfig(getenv, "https://auth.example.com", []string{"https://app.example.com", "https://*.example.com", "https://other.test", "http://example.com:3000"}, "Pathway")
	if err != nil {
		t.Fatal(err)
	}
	// Only origins on the RP id's domain: a wildcard is no origin and other.test cannot use auth.example.com.
	if c.RPID != "auth.example.com" || c.RPName != "Pathway" || !slices.Equal(c.Origins, []string{"https://auth.example.com"}) {
		t.Errorf("defaults %+v", c)
	}
	env["PASSKEY_RP_ID"] = "Example.com"
	env["PASSKEY_RP_NAME"] = " Acme "
	c, err = LoadConfig(getenv, "https://auth.example.com", []string{"https://app.example.com", "https://other.test", "http://example.com:3000"}, "Pathway")
	if err != nil {
		t.Fatal(err)
	}
	if c.RPID != "example.com" || c.RPName != "Acme" || !slices.Equal(c.Origins, []string{"https://auth.example.com", "https://app.example.com", "http://example.com:3000"}) {
		t.Errorf("with RP id %+v", c)
	}
	env["PASSKEY_ORIGINS"] = "https://example.com/ , ,https://login.example.com"
	c, err = LoadConfig(getenv, "https://auth.example.com", nil, "Pathway")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Origins, []string{"https://example.com", "https://login.example.com"}) {
		t.Errorf("explicit origins %v", c.Origins)
	}
	env["PASSKEY_ORIGINS"] = " , "
	if _, err := LoadConfig(getenv, "https://auth.example.com", nil, "Pathway"); err == nil {
		t.Error("PASSKEY_ORIGINS without an origin was accepted")
	}
}
