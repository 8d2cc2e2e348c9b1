// The palette above the canvas: one button per kind of step (a send per channel). A click adds the node, unconnected,
// under the selected node (or under everything) and opens it in the side panel; connect it by dragging or with its
// "Next step" select. Buttons, not drag-and-drop, so it works from the keyboard and on a phone alike.
import { PALETTE } from './graph.ts';
import './journeys.css';

export function Palette({ onAdd, disabled }: { onAdd: (key: string) => void; disabled?: boolean }) {
  const groups = [...new Set(PALETTE.map((p) => p.group))];
  return (
    <div className="palette" role="toolbar" aria-label="Add a step">
      {groups.map((g) => (
        <div key={g} className="palette-group" role="group" aria-label={g}>
          <span className="palette-label">{g}</span>
          {PALETTE.filter((p) => p.group === g).map((p) => (
            <button key={p.key} type="button" className={`palette-btn palette-${p.key.replace(':', '-')}`} disabled={disabled} onClick={() => onAdd(p.key)} aria-label={`Add ${p.label}`}>
              + {p.label}
            </button>
          ))}
        </div>
      ))}
    </div>
  );
}
