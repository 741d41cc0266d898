package auth

import "errors"

// Errors returned by Service. Each is a distinct kind; the web layer's one error table turns them
// into Better-Auth's status, code and message.
var (
	ErrSignUpDisabled            = errors.New("auth: email and password sign-up is disabled")
	ErrEmailPasswordDisabled     = errors.New("auth: email and password sign-in is disabled")
	ErrInvalidEmail              = errors.New("auth: invalid email")
	ErrInvalidPassword           = errors.New("auth: invalid password")
	ErrPasswordTooShort          = errors.New("auth: password too short")
	ErrPasswordTooLong           = errors.New("auth: password too long")
	ErrUserExists                = errors.New("auth: user already exists")
	ErrCreateUser                = errors.New("auth: failed to create user")
	ErrCreateSession             = errors.New("auth: failed to create session")
	ErrInvalidCredentials        = errors.New("auth: invalid email or password")
	ErrEmailNotVerified          = errors.New("auth: email not verified")
	ErrCredentialAccountNotFound = errors.New("auth: credential account not found")
	ErrEmailCannotBeUpdated      = errors.New("auth: email can not be updated here")
	ErrNoFieldsToUpdate          = errors.New("auth: no fields to update")
	ErrUserNotFound              = errors.New("auth: user not found")
	ErrLastAccount               = errors.New("auth: cannot unlink the last account")
	ErrAccountNotFound           = errors.New("auth: account not found")
)
