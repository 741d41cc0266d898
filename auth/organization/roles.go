package organization

import "authserver/auth/plugin"

func (o *org) roleEndpoints(post postFn, get getFn) []plugin.Endpoint { return nil }
