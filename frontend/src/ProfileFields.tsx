import { useId } from "react";
import { LEVELS, type Level, type Profile } from "./api";
import { TextArea } from "./ui";

const levelText: Record<Level, { label: string; hint: string }> = {
  beginner: { label: "Beginner", hint: "New to the subject: explanations from the ground up." },
  intermediate: { label: "Intermediate", hint: "You know the basics and want depth." },
  advanced: { label: "Advanced", hint: "Skip the basics: trade-offs, internals, edge cases." },
};

export const LANGUAGES: { code: string; name: string }[] = [
  { code: "en", name: "English" },
  { code: "es", name: "Español" },
  { code: "fr", name: "Français" },
  { code: "de", name: "Deutsch" },
];

export const DEFAULT_TOPICS = ["auth", "databases", "http", "performance", "security", "web"];

export function emptyProfile(): Profile {
  return { level: "beginner", topics: [], language: "en", background: "", goals: "" };
}

// Tags are lower-case words and dashes; these read better spelled out.
const TOPIC_NAMES: Record<string, string> = { sql: "SQL", http: "HTTP", oauth: "OAuth", "api-design": "API design", postgres: "PostgreSQL", auth: "Authentication" };

export function topicLabel(t: string): string {
  return TOPIC_NAMES[t] ?? t.replace(/[-_]/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

/** ProfileFields edits a personalization profile; sign-up and the profile page share it. */
export function ProfileFields({ value, onChange, topics }: { value: Profile; onChange: (p: Profile) => void; topics: string[] }) {
  const id = useId();
  const set = <K extends keyof Profile>(k: K, v: Profile[K]) => onChange({ ...value, [k]: v });
  const toggle = (t: string) =>
    set("topics", value.topics.includes(t) ? value.topics.filter((x) => x !== t) : [...value.topics, t]);
  const allTopics = [...new Set([...topics, ...value.topics])];
  return (
    <>
      <fieldset className="choices">
        <legend>Your level</legend>
        {LEVELS.map((l) => (
          <label key={l} className="choice">
            <input type="radio" name={`${id}-level`} value={l} checked={value.level === l} onChange={() => set("level", l)} />
            <span>
              <strong>{levelText[l].label}</strong>
              <small>{levelText[l].hint}</small>
            </span>
          </label>
        ))}
      </fieldset>
      <fieldset className="choices topics">
        <legend>Topics you care about</legend>
        <p className="hint">Pick a few; your feed puts them first.</p>
        <div className="chips">
          {allTopics.map((t) => (
            <label key={t} className="chip">
              <input type="checkbox" name="topics" value={t} checked={value.topics.includes(t)} onChange={() => toggle(t)} />
              <span className="chip-label">
                <span className="chip-mark" aria-hidden="true">✓ </span>
                {topicLabel(t)}
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-lang`}>Preferred language</label>
        <select id={`${id}-lang`} name="language" value={value.language} onChange={(e) => set("language", e.target.value)}>
          {LANGUAGES.map((l) => (
            <option key={l.code} value={l.code}>
              {l.name}
            </option>
          ))}
        </select>
      </div>
      <TextArea label="Background (optional)" name="background" rows={3} maxLength={500} value={value.background}
        onChange={(e) => set("background", e.target.value)} hint="What you do or have studied, in a sentence or two." />
      <TextArea label="Goals (optional)" name="goals" rows={3} maxLength={500} value={value.goals}
        onChange={(e) => set("goals", e.target.value)} hint="What you want to be able to do." />
    </>
  );
}
