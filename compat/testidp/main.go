// Command testidp is a small, real OpenID Connect provider for the compat suite
// (compat/test/social-dance.test.mjs), built on zitadel's op library and its example
// storage. It listens on a random 127.0.0.1 port and prints "ready <issuer>" on stdout.
//
//	testidp <redirect URI>...
//
// One confidential client is registered: client id "app", secret "app-secret" (accepted
// with client_secret_basic and client_secret_post), code flow with PKCE (S256), refresh
// tokens (scope offline_access), the given redirect URIs. ID tokens carry the userinfo
// claims (email, email_verified, name, given_name, family_name, picture, ...).
//
// There is no login UI: the authorization endpoint sends the browser to
// /login/username?authRequestID=<id>, and that handler approves at once. The test's browser
// picks the user by adding query parameters to that hop:
//
//	email     the user's e-mail (default ada@example.com); users are created on first use
//	name      display name (default "Ada Lovelace"; first word = given name)
//	verified  "false" for email_verified=false (default true)
//	picture   picture URL (default https://img.example.test/<local part>.png)
//	sub       subject (default "sub-" + the first 16 hex digits of sha256(email))
//	deny      "1": the user refuses; the provider redirects back with error=access_denied
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// users is a storage.UserStore whose users are created by the login handler.
type users struct {
	mu     sync.Mutex
	byID   map[string]*storage.User
	byName map[string]*storage.User
	extra  map[string]extra
	// the user's claims as they were when an auth request was approved (by request id):
	// two logins of the same user with different data may overlap
	snap map[string]snapshot
}

type snapshot struct {
	email    string
	verified bool
	x        extra
}

// extra holds the claims the example storage has no field for.
type extra struct{ name, picture string }

func (s *users) GetUserByID(id string) *storage.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id]
}

func (s *users) GetUserByUsername(n string) *storage.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byName[n]
}

func (s *users) ExampleClientID() string { return "service" }

func (s *users) extraFor(id string) extra {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.extra[id]
}

// put creates or updates the user; the username is the subject.
func (s *users) snapshotFor(authRequestID string) (snapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.snap[authRequestID]
	return v, ok
}

func (s *users) put(u *storage.User, x extra, authRequestID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap[authRequestID] = snapshot{email: u.Email, verified: u.EmailVerified, x: x}
	s.byID[u.ID] = u
	s.byName[u.Username] = u
	s.extra[u.ID] = x
}

type st struct {
	*storage.Storage
	users *users
}

type cl struct{ op.Client }

// IDTokenUserinfoClaimsAssertion puts the userinfo claims into the ID token.
func (c cl) IDTokenUserinfoClaimsAssertion() bool { return true }

func (s st) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return cl{c}, nil
}

// addProfile sets name (as given, not "first last") and picture with the profile scope.
func (s st) addProfile(ui *oidc.UserInfo, scopes []string) {
	for _, sc := range scopes {
		if sc == oidc.ScopeProfile {
			x := s.users.extraFor(ui.Subject)
			ui.Name = x.name
			ui.Picture = x.picture
		}
	}
}

func (s st) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, t op.IDTokenRequest, sc []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, t, sc); err != nil {
		return err
	}
	ui.Subject = t.GetSubject()
	s.addProfile(ui, sc)
	// the ID token of a code exchange carries the data of that login
	if r, ok := t.(interface{ GetID() string }); ok {
		if v, ok := s.users.snapshotFor(r.GetID()); ok {
			for _, scope := range sc {
				switch scope {
				case oidc.ScopeEmail:
					ui.Email, ui.EmailVerified = v.email, oidc.Bool(v.verified)
				case oidc.ScopeProfile:
					first, last, _ := strings.Cut(v.x.name, " ")
					ui.Name, ui.GivenName, ui.FamilyName, ui.Picture = v.x.name, first, last, v.x.picture
				}
			}
		}
	}
	return nil
}

func (s st) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	if ui.Name != "" {
		x := s.users.extraFor(ui.Subject)
		ui.Name = x.name
		ui.Picture = x.picture
	}
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testidp <redirect URI>...")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	issuer := "http://" + ln.Addr().String()
	us := &users{byID: map[string]*storage.User{}, byName: map[string]*storage.User{}, extra: map[string]extra{}, snap: map[string]snapshot{}}
	clients := map[string]*storage.Client{"app": storage.WebClient("app", "app-secret", os.Args[1:]...)}
	s := storage.NewStorageWithClients(us, clients)
	store := st{Storage: s, users: us}
	cfg := &op.Config{CryptoKey: sha256.Sum256([]byte("compat-testidp")), CodeMethodS256: true, AuthMethodPost: true, GrantTypeRefreshToken: true}
	p, err := op.NewOpenIDProvider(issuer, cfg, store, op.WithAllowInsecure())
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/login/username", op.NewIssuerInterceptor(p.IssuerFromRequest).HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.FormValue("authRequestID")
		if r.FormValue("deny") == "1" {
			req, err := s.AuthRequestByID(r.Context(), id)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			op.AuthRequestError(w, r, req, oidc.ErrAccessDenied().WithDescription("the user denied the request"), p)
			return
		}
		email := r.FormValue("email")
		if email == "" {
			email = "ada@example.com"
		}
		name := r.FormValue("name")
		if name == "" {
			name = "Ada Lovelace"
		}
		first, last, _ := strings.Cut(name, " ")
		sub := r.FormValue("sub")
		if sub == "" {
			h := sha256.Sum256([]byte(strings.ToLower(email)))
			sub = "sub-" + hex.EncodeToString(h[:8])
		}
		picture := r.FormValue("picture")
		if picture == "" {
			local, _, _ := strings.Cut(email, "@")
			picture = "https://img.example.test/" + local + ".png"
		}
		u := &storage.User{ID: sub, Username: sub, Password: "pw", FirstName: first, LastName: last, Email: email,
			EmailVerified: r.FormValue("verified") != "false", PreferredLanguage: language.English}
		us.put(u, extra{name: name, picture: picture}, id)
		if err := s.CheckUsernamePassword(sub, "pw", id); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, op.AuthCallbackURL(p)(r.Context(), id), http.StatusFound)
	}))
	mux.Handle("/", p)
	fmt.Println("ready", issuer)
	_ = http.Serve(ln, mux)
}
