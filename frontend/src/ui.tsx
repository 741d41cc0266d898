import { useEffect, useId, useRef, type InputHTMLAttributes, type ReactNode, type Ref, type TextareaHTMLAttributes } from "react";
import type { AppError } from "./errors";

/** usePageTitle names the page in the tab and for screen readers. */
export function usePageTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Pathway`;
  }, [title]);
}

type FieldProps = InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: ReactNode; invalid?: boolean; ref?: Ref<HTMLInputElement> };

/** Field is a labelled input with an optional hint, wired for assistive technology; ref reaches the input. */
export function Field({ label, hint, invalid, id, ...input }: FieldProps) {
  const auto = useId();
  const fieldId = id ?? auto;
  const hintId = hint ? `${fieldId}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={fieldId}>{label}</label>
      <input id={fieldId} aria-describedby={hintId} aria-invalid={invalid || undefined} {...input} />
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}

type AreaProps = TextareaHTMLAttributes<HTMLTextAreaElement> & { label: string; hint?: ReactNode };

/** TextArea is Field for longer text. */
export function TextArea({ label, hint, id, ...area }: AreaProps) {
  const auto = useId();
  const fieldId = id ?? auto;
  const hintId = hint ? `${fieldId}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={fieldId}>{label}</label>
      <textarea id={fieldId} aria-describedby={hintId} {...area} />
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}

/**
 * ErrorAlert shows a failure. The live region is always in the page so screen readers announce
 * the message when it appears; focus moves to it after a failed submit so keyboard users see it.
 */
export function ErrorAlert({ error, focus = false }: { error: AppError | null; focus?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (error && focus) ref.current?.focus();
  }, [error, focus]);
  return (
    <div ref={ref} className={error ? "alert alert-error" : "visually-hidden"} role="alert" tabIndex={-1} data-code={error?.code}>
      {error?.message}
    </div>
  );
}

/** Notice is a polite status message (success, "email sent"). */
export function Notice({ children }: { children?: ReactNode }) {
  return (
    <div className={children ? "alert alert-ok" : "visually-hidden"} role="status">
      {children}
    </div>
  );
}

/** Loading is a placeholder while data arrives. */
export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

/** SubmitButton disables itself and says what it is doing while a request runs. */
export function SubmitButton({ pending, children, pendingText }: { pending: boolean; children: ReactNode; pendingText: string }) {
  return (
    <button type="submit" className="button primary" disabled={pending} aria-busy={pending || undefined}>
      {pending ? (
        <>
          <span className="spinner" aria-hidden="true" /> {pendingText}
        </>
      ) : (
        children
      )}
    </button>
  );
}

/** ProgressBar shows reading progress with an accessible value. */
export function ProgressBar({ percent, label }: { percent: number; label: string }) {
  const p = Math.max(0, Math.min(100, Math.round(percent)));
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={p}>
      <span className="progress-fill" style={{ width: `${p}%` }} />
    </div>
  );
}

/** safeNext keeps a ?next= target on this site (no //host or scheme tricks). */
export function safeNext(raw: string | null, fallback = "/feed"): string {
  if (!raw || !raw.startsWith("/") || raw.startsWith("//") || raw.includes("\\")) return fallback;
  return raw;
}

/** formatDate prints a date for people, in their locale. */
export function formatDate(iso?: string | Date | null): string {
  if (!iso) return "";
  const d = typeof iso === "string" ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}
