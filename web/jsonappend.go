package web

import "authserver/store"

// jsonAppender is a response that writes its own JSON. writeJSON uses it instead of reflection
// for the answers on the hot path (get-session is most of an auth server's traffic), where
// encoding/json's reflection and its re-validation of MarshalJSON output were about a tenth of
// the CPU per request. The output must equal encoding/json's byte for byte (no HTML escaping);
// TestAppendJSONMatchesEncodingJSON checks that (store.AppendUserJSON and
// store.AppendSessionJSON write the objects).
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

func (r sessionUserResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"session":`...)
	b = store.AppendSessionJSON(b, r.Session.s, r.Session.fields)
	b = append(b, `,"user":`...)
	b = store.AppendUserJSON(b, r.User.u, r.User.fields)
	return append(b, '}')
}
