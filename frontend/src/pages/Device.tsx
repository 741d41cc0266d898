import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { deviceAuthorizationClient } from "better-auth/client/plugins";
import { createAuthClient } from "better-auth/client";
import { tokenStore } from "../auth";
import { describe, type AppError } from "../errors";
import { hasPlugin } from "../settings";
import { ErrorAlert, Field, Notice, SubmitButton, usePageTitle } from "../ui";

/**
 * deviceClient is Better-Auth's client with its device-authorization half, on this same server
 * and session (the cookie, and the bearer token as the app's own client sends it). It is kept
 * apart from the app-wide client so only this page carries the plugin.
 */
const deviceClient = createAuthClient({
  baseURL: window.location.origin,
  plugins: [deviceAuthorizationClient()],
  fetchOptions: { auth: { type: "Bearer", token: () => tokenStore.get() ?? undefined } },
});

/** The request a device made, as GET /device shows it to the person who claimed it. */
interface DeviceRequest {
  userCode: string;
  status: string;
  clientId?: string;
  scope?: string | null;
}

/** The device endpoints answer OAuth-style errors: {error, error_description}. */
interface DeviceError {
  status: number;
  error?: string;
  error_description?: string;
  code?: string;
  message?: string;
}

// Sentences for the device endpoints' OAuth error codes; anything else falls back to the
// app's general descriptions.
const deviceMessages: Record<string, string> = {
  invalid_request: "That code doesn't match a waiting device. Check the code on your device and type it again.",
  expired_token: "That code has expired. Start again on your device to get a new code.",
  access_denied: "This request was opened by another account. Start again on your device.",
  unauthorized: "Your session has ended. Sign in again, then enter the code.",
};

function fromDevice(err: DeviceError | null | undefined): AppError {
  const status = err?.status || undefined;
  const code = err?.error ?? err?.code;
  if (status !== 429 && code && deviceMessages[code]) {
    // "Device code already processed" is invalid_request too, but says something else.
    if (err?.error_description === "Device code already processed") {
      return { code, status, message: "This code was already used. Start again on your device if it is still waiting." };
    }
    return { code, status, message: deviceMessages[code] };
  }
  return { code, status, message: describe(code, status, err?.error_description ?? err?.message) };
}

/**
 * Device is where a signed-in person connects a device without a browser (a command-line tool,
 * a TV): they type the code the device shows (or arrive from its link with ?user_code=), see
 * which application is asking and for what, and approve or deny it. The route requires a
 * session, so a signed-out person signs in first and comes back here with the code.
 */
export default function Device() {
  usePageTitle("Connect a device");
  const [params] = useSearchParams();
  const [code, setCode] = useState(params.get("user_code") ?? "");
  const [request, setRequest] = useState<DeviceRequest | null>(null);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [done, setDone] = useState<"approved" | "denied" | null>(null);
  const looked = useRef(false);

  async function lookUp(userCode: string) {
    setPending(true);
    setError(null);
    setRequest(null);
    // Looking at a code while signed in claims it for this account: only this account can then
    // approve or deny it.
    const { data, error } = await deviceClient.device({ query: { user_code: userCode.trim() } });
    setPending(false);
    if (error || !data) {
      setError(fromDevice(error as DeviceError));
      return;
    }
    setRequest({ userCode: data.user_code, status: data.status, clientId: data.client_id, scope: data.scope });
  }

  // Arriving from the device's link looks the code up once, without a click.
  useEffect(() => {
    const given = params.get("user_code");
    if (given && !looked.current && hasPlugin("device-authorization")) {
      looked.current = true;
      void lookUp(given);
    }
  }, [params]);

  async function decide(approve: boolean) {
    if (!request) return;
    setPending(true);
    setError(null);
    const body = { userCode: request.userCode };
    const { error } = approve ? await deviceClient.device.approve(body) : await deviceClient.device.deny(body);
    setPending(false);
    if (error) {
      setError(fromDevice(error as DeviceError));
      return;
    }
    setDone(approve ? "approved" : "denied");
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    void lookUp(code);
  }

  if (!hasPlugin("device-authorization")) {
    return (
      <section className="auth-card" aria-labelledby="device-title">
        <h1 id="device-title">Connect a device</h1>
        <p className="lead">Signing in devices with a code is not turned on for this site.</p>
      </section>
    );
  }

  if (done) {
    return (
      <section className="auth-card" aria-labelledby="device-title">
        <h1 id="device-title">{done === "approved" ? "Device connected" : "Request denied"}</h1>
        <Notice>
          {done === "approved"
            ? "The device is now signed in to your account. You can go back to it."
            : "The device was not given access to your account."}
        </Notice>
        <p>
          <Link to="/security#sessions">See where you are signed in</Link>
        </p>
      </section>
    );
  }

  return (
    <section className="auth-card" aria-labelledby="device-title">
      <h1 id="device-title">Connect a device</h1>
      <ErrorAlert error={error} focus />
      {request && request.status === "pending" ? (
        <>
          <p className="lead">A device wants to sign in to your account.</p>
          <dl className="facts">
            <div><dt>Code</dt><dd className="device-code">{request.userCode.replace(/[^a-zA-Z0-9]/g, "").toUpperCase()}</dd></div>
            <div><dt>App</dt><dd className="device-client">{request.clientId ?? "Unknown"}</dd></div>
            <div><dt>Access</dt><dd className="device-scope">{request.scope || "Not specified"}</dd></div>
          </dl>
          <p className="hint">Only approve if you started this on your own device and the code matches what it shows.</p>
          <div className="button-row">
            <button type="button" className="button primary" onClick={() => void decide(true)} disabled={pending} aria-busy={pending || undefined}>
              Approve
            </button>
            <button type="button" className="button danger wide" onClick={() => void decide(false)} disabled={pending}>
              Deny
            </button>
          </div>
        </>
      ) : (
        <>
          {request && (
            <Notice>
              {request.status === "approved" ? "This code was already approved." : "This code was already denied."} Start again on
              your device if you need a new one.
            </Notice>
          )}
          <p className="lead">Enter the code shown on your device.</p>
          <form onSubmit={onSubmit}>
            <Field label="Code" name="user_code" autoComplete="off" autoCapitalize="characters" spellCheck={false} required
              value={code} onChange={(e) => setCode(e.target.value)} />
            <SubmitButton pending={pending} pendingText="Checking…">Continue</SubmitButton>
          </form>
        </>
      )}
    </section>
  );
}
