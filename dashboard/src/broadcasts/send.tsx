// Sending a draft, shared by the composer and the detail: a confirmation that says how many people it reaches (the
// segment's members now), when, and how an A/B test splits them, then POST /api/broadcasts/:id/send.
import type { ReactNode } from 'react';
import { enc, get, post } from '../api.ts';
import { dateTime, num } from '../format.ts';
import type { useConfirm } from '../ui.tsx';
import { METRIC_LABEL, type Metric } from './model.ts';

export interface SegmentInfo {
  id: string;
  name: string;
  members?: number;
}

export const people = (n: number) => `${num(n)} ${n === 1 ? 'person' : 'people'}`;

/** "2 hours", "90 minutes", "3 days". */
export function duration(minutes: number): string {
  const [v, u] = minutes % 1440 === 0 ? [minutes / 1440, 'day'] : minutes % 60 === 0 ? [minutes / 60, 'hour'] : [minutes, 'minute'];
  return `${num(v)} ${u}${v === 1 ? '' : 's'}`;
}

/** When a definition sends, in words. */
export function whenText(d: any): string {
  if (d.schedule?.at) return `starting ${dateTime(d.schedule.at)}`;
  if (d.schedule?.localTime) return `on ${d.schedule.date} at ${d.schedule.localTime} in each person's own time zone`;
  return 'now';
}

function body(d: any, seg: SegmentInfo): ReactNode {
  const n = seg.members ?? 0;
  const ab = d.abTest;
  const test = ab ? Math.round(n * ab.testShare) : 0;
  return (
    <>
      <p data-testid="send-reach">
        It will reach up to <strong>{people(n)}</strong>: the members of “{seg.name}” {d.audience === 'live' ? '(checked again as each message goes)' : 'when it starts'}, {whenText(d)}.
      </p>
      {ab ? (
        <p>
          About {Math.round(ab.testShare * 100)} % (≈ {people(test)}) get variants {(d.variants ?? []).map((v: any) => v.id).join(', ')} first; after {duration(ab.afterMinutes)} the variant with the best{' '}
          {METRIC_LABEL[ab.metric as Metric].toLowerCase()} goes to the other ≈ {people(n - test)}.
        </p>
      ) : null}
      <p className="muted small">Consent, frequency caps and quiet hours still apply: some people may get it later, or not at all.</p>
    </>
  );
}

/** Asks, then sends. Returns true when sent (the caller reloads or navigates). */
export async function confirmAndSend(confirm: ReturnType<typeof useConfirm>, id: string, d: any): Promise<boolean> {
  const seg = await get<SegmentInfo>(`/segments/${enc(d.segmentId)}`);
  const scheduled = !!d.schedule?.at && Date.parse(d.schedule.at) > Date.now();
  const n = seg.members ?? 0;
  const ok = await confirm({
    title: scheduled ? 'Schedule this broadcast?' : 'Send this broadcast?',
    body: body(d, seg),
    confirm: `${scheduled ? 'Schedule for' : 'Send to'} ${people(n)}`,
  });
  if (!ok) return false;
  await post(`/broadcasts/${enc(id)}/send`);
  return true;
}
