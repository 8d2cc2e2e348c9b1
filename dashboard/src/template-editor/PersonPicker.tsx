// "Preview as": find customers by email (or phone, user id) prefix with GET /api/profiles?search=, pick one; the
// preview is then rendered with their real profile. Render picks the first match; other matches are listed to choose.
import { useState } from 'react';
import { enc, get, messageOf } from '../api.ts';
import './editor.css';

interface Match {
  profileId: string;
  name?: string;
  matched: { kind: string; value: string }[];
}

export function PersonPicker({ profileId, onPick }: { profileId: string | null; onPick: (id: string | null, label?: string) => void }) {
  const [q, setQ] = useState('');
  const [matches, setMatches] = useState<Match[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const label = (m: Match) => m.matched.find((x) => x.kind === 'email')?.value ?? m.matched[0]?.value ?? m.name ?? m.profileId;
  const pick = (m: Match | null) => {
    setChosen(m ? label(m) : null);
    onPick(m ? m.profileId : null);
  };
  const search = async () => {
    setNote(null);
    const s = q.trim();
    if (!s) {
      setMatches([]);
      return pick(null);
    }
    try {
      const r = await get<{ profiles: Match[] }>(`/profiles?search=${enc(s)}&limit=5`);
      setMatches(r.profiles);
      if (r.profiles[0]) pick(r.profiles[0]);
      else setNote(`No customer matches “${s}”: showing sample data`), pick(null);
    } catch (e) {
      setNote(messageOf(e));
    }
  };
  return (
    <div>
      <form
        className="te-picker"
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <label htmlFor="tpl-as">Preview as</label>
        <input id="tpl-as" type="search" placeholder="email of a customer" value={q} onChange={(e) => setQ(e.target.value)} />
        <button type="submit" className="btn btn-small">
          Render
        </button>
        {profileId ? (
          <button type="button" className="btn btn-small btn-ghost" onClick={() => (setMatches([]), setQ(''), pick(null))}>
            Use sample data
          </button>
        ) : null}
        {matches.length > 1 ? (
          <ul aria-label="Matching customers">
            {matches.map((m) => (
              <li key={m.profileId}>
                <button type="button" className="chip" aria-pressed={m.profileId === profileId} onClick={() => pick(m)}>
                  {label(m)}
                </button>
              </li>
            ))}
          </ul>
        ) : null}
      </form>
      <p className="hint" aria-live="polite">
        {note ?? (profileId ? `Rendered for ${chosen ?? profileId}` : 'Rendered for sample data (Alex Sample)')}
      </p>
    </div>
  );
}
