// API keys tab (owners): the workspace's keys, create one (its secret is shown once, with Copy), revoke with
// confirmation. Keys are stored hashed: only their prefix can be shown later.
import { type FormEvent, useState } from 'react';
import { del, get, post } from '../api.ts';
import { ago, dateTime } from '../format.ts';
import { Badge, Card, Empty, ErrorBox, Field, Loading, described, useAsync, useConfirm, useToast } from '../ui.tsx';
import { useCan } from '../session.tsx';
import { type FormError, OwnerOnly, errorFor, formError, unplaced } from './common.tsx';

interface Key {
  id: string;
  kind: 'write' | 'admin';
  name: string;
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
  /** To the minute; null: never used. */
  lastUsedAt: number | null;
}

export function KeysTab() {
  const owner = useCan('admin');
  if (!owner) return <OwnerOnly what="API keys" />;
  return <Keys />;
}

function Keys() {
  const res = useAsync(() => get<{ keys: Key[] }>('/keys').then((r) => r.keys), []);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'write' | 'admin'>('write');
  const [fe, setFe] = useState<FormError | null>(null);
  const [created, setCreated] = useState<(Key & { key: string }) | null>(null);
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  const confirm = useConfirm();

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setFe(null);
    setBusy(true);
    try {
      const k = await post<Key & { key: string }>('/keys', { kind, name: name.trim() });
      setCreated(k);
      setName('');
      res.reload();
    } catch (err) {
      setFe(formError(err));
    } finally {
      setBusy(false);
    }
  };
  const revoke = async (k: Key) => {
    const ok = await confirm({ title: `Revoke the key "${k.name}"?`, body: 'Anything using this key stops working at once. This cannot be undone.', confirm: 'Revoke key', danger: true });
    if (!ok) return;
    try {
      await del(`/keys/${encodeURIComponent(k.id)}`);
      toast(`Key "${k.name}" revoked`);
      if (created?.id === k.id) setCreated(null);
      res.reload();
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), 'bad');
    }
  };
  const copy = async (s: string) => {
    try {
      await navigator.clipboard.writeText(s);
      toast('Key copied');
    } catch {
      toast('Copying is not allowed here: select the key and copy it', 'bad');
    }
  };

  return (
    <>
      <Card title="Create a key" id="key-create">
        <form onSubmit={create} aria-label="Create an API key" noValidate>
          <ErrorBox error={unplaced(fe, ['name', 'kind'])} />
          <div className="settings-form">
            <Field id="key-name" label="Name" error={errorFor(fe, 'name')} hint="What uses it, e.g. “Web shop server”">
              <input {...described('key-name', errorFor(fe, 'name'), true)} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
            </Field>
            <Field id="key-kind" label="Kind" error={errorFor(fe, 'kind')} hint="Write keys send events; admin keys can use every API">
              <select {...described('key-kind', errorFor(fe, 'kind'), true)} value={kind} onChange={(e) => setKind(e.target.value as 'write' | 'admin')}>
                <option value="write">write</option>
                <option value="admin">admin</option>
              </select>
            </Field>
          </div>
          <div className="settings-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              Create key
            </button>
          </div>
        </form>
        {created ? (
          <div className="notice notice-info" role="status" id="key-secret">
            <p>
              <strong>Copy the key “{created.name}” now:</strong> it is shown only once.
            </p>
            <div className="secret-once">
              <code data-testid="new-key">{created.key}</code>
              <button type="button" className="btn btn-small" onClick={() => copy(created.key)}>
                Copy
              </button>
              <button type="button" className="btn btn-small btn-ghost" onClick={() => setCreated(null)}>
                Done
              </button>
            </div>
          </div>
        ) : null}
      </Card>
      <Card title="Keys" id="keys">
        {res.error && !res.data ? <ErrorBox error={res.error} onRetry={res.reload} /> : null}
        {!res.data ? (
          res.error ? null : <Loading rows={3} />
        ) : res.data.length === 0 ? (
          <Empty title="No keys yet" />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Key</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {res.data.map((k) => (
                  <tr key={k.id} data-key={k.id}>
                    <td>{k.name}</td>
                    <td>{k.kind}</td>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>{dateTime(k.createdAt)}</td>
                    <td title={k.lastUsedAt ? dateTime(k.lastUsedAt) : undefined}>{k.lastUsedAt ? ago(k.lastUsedAt) : <span className="muted">never</span>}</td>
                    <td>{k.revokedAt ? <Badge tone="bad">revoked</Badge> : <Badge tone="good">active</Badge>}</td>
                    <td>
                      {k.revokedAt ? null : (
                        <button type="button" className="btn btn-small btn-ghost" onClick={() => revoke(k)} aria-label={`Revoke ${k.name}`}>
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
