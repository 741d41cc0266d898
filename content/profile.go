package content

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"

	"authserver/store"
)

// Profile is a reader's personalization settings.
type Profile struct {
	Level      Level
	Topics     []string // tags of the catalog, in the order the reader gave them
	Language   string   // base language (BCP 47), such as "en" or "es"
	Background string
	Goals      string
	// CreatedAt and UpdatedAt are nil for a reader who never saved a profile (the defaults).
	CreatedAt *time.Time
	UpdatedAt *time.Time
}

// DefaultProfile is what a reader who never saved a profile gets: a beginner reading English,
// with no topics chosen.
func DefaultProfile() Profile {
	return Profile{Level: Beginner, Topics: []string{}, Language: "en"}
}

// ProfileUpdate changes a profile. Nil fields keep their current value (or the default), so a
// client may send only what changed; an empty Topics list (not nil) clears the topics. The json
// names are the wire names, used in validation messages.
type ProfileUpdate struct {
	Level      *string  `json:"level" validate:"omitnil,text,oneof=beginner intermediate advanced"`
	Topics     []string `json:"topics" validate:"omitnil,max=20,unique,dive,text,catalogtag"`
	Language   *string  `json:"language" validate:"omitnil,text,bcp47_language_tag"`
	Background *string  `json:"background" validate:"omitnil,text,max=500"`
	Goals      *string  `json:"goals" validate:"omitnil,text,max=500"`
}

// Profile returns the reader's profile, or DefaultProfile when they never saved one.
func (s *Service) Profile(ctx context.Context, userID string) (Profile, error) {
	row, err := s.st.ContentProfileByUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return DefaultProfile(), nil
	}
	if err != nil {
		return Profile{}, err
	}
	return profileFromRow(row), nil
}

// UpdateProfile validates the update, merges it into the current profile and saves it. Topics
// must be tags of the visible catalog. A *ValidationError (kind ErrInvalid) names each bad field
// as "body.<json name>".
func (s *Service) UpdateProfile(ctx context.Context, userID string, in ProfileUpdate) (Profile, error) {
	if err := s.checkUpdate(ctx, &in, "body."); err != nil {
		return Profile{}, err
	}
	cur, err := s.Profile(ctx, userID)
	if err != nil {
		return Profile{}, err
	}
	if err := saveProfile(ctx, s.st, userID, in.apply(cur), s.now()); err != nil {
		return Profile{}, err
	}
	return s.Profile(ctx, userID)
}

// NewProfile checks a profile chosen before its reader has an account (at sign-up) with the
// rules of UpdateProfile, and returns DefaultProfile with the update applied, for SaveNewProfile
// to store once the user exists. A *ValidationError names each bad field as prefix + json name
// (such as "body.contentProfile.level"), so a client can tell which part of its request failed.
func (s *Service) NewProfile(ctx context.Context, in ProfileUpdate, prefix string) (Profile, error) {
	if err := s.checkUpdate(ctx, &in, prefix); err != nil {
		return Profile{}, err
	}
	return in.apply(DefaultProfile()), nil
}

// SaveNewProfile stores p (from NewProfile) as the profile of the user userID through st, which
// may be the transaction that creates the user, so the user and their profile exist together or
// not at all.
func (s *Service) SaveNewProfile(ctx context.Context, st *store.Store, userID string, p Profile) error {
	return saveProfile(ctx, st, userID, p, s.now())
}

// checkUpdate normalizes in and validates it; topics are checked against the visible catalog.
func (s *Service) checkUpdate(ctx context.Context, in *ProfileUpdate, prefix string) error {
	in.normalize()
	vctx := ctx
	if in.Topics != nil {
		tags, err := s.st.ContentCatalogTags(ctx)
		if err != nil {
			return err
		}
		known := make(map[string]bool, len(tags))
		for _, t := range tags {
			known[t] = true
		}
		vctx = context.WithValue(ctx, catalogTagsKey{}, known)
	}
	if err := s.validate.StructCtx(vctx, *in); err != nil {
		return describeAll(err, prefix)
	}
	return nil
}

// apply returns cur with the fields the (checked) update sets.
func (u ProfileUpdate) apply(cur Profile) Profile {
	if u.Level != nil {
		cur.Level = Level(*u.Level)
	}
	if u.Topics != nil {
		cur.Topics = u.Topics
	}
	if u.Language != nil {
		cur.Language = baseLanguage(*u.Language)
	}
	if u.Background != nil {
		cur.Background = *u.Background
	}
	if u.Goals != nil {
		cur.Goals = *u.Goals
	}
	return cur
}

// saveProfile inserts or replaces the user's profile row.
func saveProfile(ctx context.Context, st *store.Store, userID string, p Profile, now store.Time) error {
	topics, err := json.Marshal(p.Topics)
	if err != nil {
		return err
	}
	return st.SaveContentProfile(ctx, &store.ContentProfile{UserID: userID, Level: string(p.Level), Topics: string(topics),
		Language: p.Language, Background: p.Background, Goals: p.Goals, CreatedAt: now, UpdatedAt: now})
}

// normalize trims the text fields and lower-cases the enumerations, so "Beginner" or " SQL " are
// accepted as "beginner" and "sql".
func (u *ProfileUpdate) normalize() {
	trim := func(p *string, lower bool) {
		if p == nil {
			return
		}
		*p = strings.TrimSpace(*p)
		if lower {
			*p = strings.ToLower(*p)
		}
	}
	trim(u.Level, true)
	trim(u.Language, false)
	trim(u.Background, false)
	trim(u.Goals, false)
	for i, t := range u.Topics {
		u.Topics[i] = strings.ToLower(strings.TrimSpace(t))
	}
}

func profileFromRow(r *store.ContentProfile) Profile {
	p := Profile{Level: Level(r.Level), Language: r.Language, Background: r.Background, Goals: r.Goals}
	if err := json.Unmarshal([]byte(r.Topics), &p.Topics); err != nil || p.Topics == nil {
		p.Topics = []string{}
	}
	if p.Level.rank() < 0 {
		p.Level = Beginner
	}
	created, updated := r.CreatedAt.Time, r.UpdatedAt.Time
	p.CreatedAt, p.UpdatedAt = &created, &updated
	return p
}

// catalogTagsKey carries the set of catalog tags to the "catalogtag" validation.
type catalogTagsKey struct{}

// newValidator builds the validator used for profiles, progress and front matter. Field names in
// its errors are the json (or yaml) names, as clients and authors write them.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		for _, key := range []string{"json", "yaml"} {
			if name, _, _ := strings.Cut(f.Tag.Get(key), ","); name != "" && name != "-" {
				return name
			}
		}
		return f.Name
	})
	// text: the value can be stored (store.ValidText); checked first, so no other rule or query
	// ever sees text the database would refuse.
	_ = v.RegisterValidation("text", func(fl validator.FieldLevel) bool { return store.ValidText(fl.Field().String()) })
	// catalogtag: the value is a tag of the visible catalog. The set travels in the context, read
	// from the database for each update, so every replica checks against the same catalog.
	_ = v.RegisterValidationCtx("catalogtag", func(ctx context.Context, fl validator.FieldLevel) bool {
		known, _ := ctx.Value(catalogTagsKey{}).(map[string]bool)
		return known[fl.Field().String()]
	})
	return v
}

// textMessage is the issue of a text no database column can hold.
const textMessage = "must not contain NUL characters or invalid UTF-8"

// Issue is one invalid field: Field is its path as the client wrote it ("body.topics[2]").
type Issue struct {
	Field   string
	Message string
}

// ValidationError lists the invalid fields of a request. Its kind is ErrInvalid; its Error text is
// "[field] message" per issue, joined with "; ", the form Better-Auth's validation errors take.
type ValidationError struct {
	Issues []Issue
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		parts[i] = "[" + is.Field + "] " + is.Message
	}
	return strings.Join(parts, "; ")
}

// Unwrap gives the error its kind, ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// invalid returns a ValidationError with one issue.
func invalid(field, msg string) *ValidationError {
	return &ValidationError{Issues: []Issue{{Field: field, Message: msg}}}
}

// describeAll turns the validator's errors into a ValidationError whose fields carry prefix.
func describeAll(err error, prefix string) error {
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		return err
	}
	out := &ValidationError{}
	for _, fe := range ves {
		field := fe.Namespace()
		if _, rest, ok := strings.Cut(field, "."); ok {
			field = rest // drop the struct name
		}
		out.Issues = append(out.Issues, Issue{Field: prefix + field, Message: describe(fe)})
	}
	return out
}

// describe words one failed rule for a client.
func describe(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "oneof":
		return "must be one of " + fe.Param()
	case "max", "min":
		bound := "at most"
		if fe.Tag() == "min" {
			bound = "at least"
		}
		switch fe.Kind() {
		case reflect.String:
			return fmt.Sprintf("must be %s %s characters long", bound, fe.Param())
		case reflect.Slice, reflect.Array, reflect.Map:
			return fmt.Sprintf("must have %s %s entries", bound, fe.Param())
		}
		return fmt.Sprintf("must be %s %s", bound, fe.Param())
	case "unique":
		return "must not repeat an entry"
	case "text":
		return textMessage
	case "catalogtag":
		return fmt.Sprintf("%q is not a tag of the catalog", fe.Value())
	case "bcp47_language_tag":
		return "must be a BCP 47 language tag such as en or pt-BR"
	}
	return "is invalid (" + fe.Tag() + ")"
}
