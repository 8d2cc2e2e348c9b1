// Users tab (owners): the workspace's members and their roles; add a member (a new account with a password, or an
// existing account without one), change a role, remove a member. The API's refusals (the last owner, a member
// already there) are shown as it words them.
import { type FormEvent, useState } from 'react';
import { del, get, patch, post } from '../api.ts';
import { ago } from '../format.ts';
import { Card, ErrorBox, Field, Loading, described, useAsync, useConfirm, useToast } from '../ui.tsx';
import { type Role, useCan, useSession } from '../session.tsx';
import { type FormError, OwnerOnly, errorFor, formError, unplaced } from './common.tsx';

const ROLES: Role[] = ['owner', 'marketer', 'support', 'viewer'];
const ROLE_HINT: Record<Role, string> = {
  owner: 'everything, including users, keys and channel providers',
  marketer: 'journeys, segments, templates, broadcasts and messaging policy',
  support: 'customer profiles',
  viewer: 'read only',
};
interface Member {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: number;
  lastLoginAt: number | null;
}

export function UsersTab() {
  const owner = useCan('admin');
  if (!owner) return <OwnerOnly what="users and their roles" />;
  return <Users />;
}

function Users() {
  const me = useSession().me;
  const res = useAsync(() => get<{ users: Member[] }>('/users').then((r) => r.users), []);
  const [refusal, setRefusal] = useState<unknown>(null);
  const toast = useToast();
  const confirm = useConfirm();

  const changeRole = async (m: Member, role: Role) => {
    setRefusal(null);
    try {
      await patch(`/users/${encodeURIComponent(m.id)}`, { role });
      toast(`${m.email} is now ${role}`);
    } catch (err) {
      setRefusal(err);
    }
    res.reload();
  };
  const remove = async (m: Member) => {
    setRefusal(null);
    const ok = await confirm({ title: `Remove ${m.email}?`, body: `${m.name || m.email} loses access to this workspace at once (their sessions here end).`, confirm: 'Remove member', danger: true });
    if (!ok) return;
    try {
      await del(`/users/${encodeURIComponent(m.id)}`);
      toast(`${m.email} removed`);
    } catch (err) {
      setRefusal(err);
    }
    res.reload();
  };

  return (
    <>
      <Card title="Members" id="members">
        <ErrorBox error={refusal} />
        {res.error && !res.data ? <ErrorBox error={res.error} onRetry={res.reload} /> : null}
        {!res.data ? (
          res.error ? null : <Loading rows={3} />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Last sign-in</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {res.data.map((m) => (
                  <tr key={m.id} data-user={m.email}>
                    <td>
                      {m.name || '—'}
                      {m.id === me?.user.id ? <span className="chip">you</span> : null}
                    </td>
                    <td>{m.email}</td>
                    <td>
                      <label className="sr-only" htmlFor={`role-${m.id}`}>
                        Role of {m.email}
                      </label>
                      <select id={`role-${m.id}`} className="settings-inline-select" value={m.role} onChange={(e) => changeRole(m, e.target.value as Role)}>
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>{m.lastLoginAt ? ago(m.lastLoginAt) : 'never'}</td>
                    <td>
                      <button type="button" className="btn btn-small btn-ghost" onClick={() => remove(m)} aria-label={`Remove ${m.email}`}>
                        Remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <AddMember onAdded={res.reload} />
    </>
  );
}

function AddMember({ onAdded }: { onAdded: () => void }) {
  const blank = { email: '', name: '', password: '', role: 'marketer' as Role };
  const [v, setV] = useState(blank);
  const [fe, setFe] = useState<FormError | null>(null);
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFe(null);
    setBusy(true);
    try {
      const body: Record<string, string> = { email: v.email.trim(), role: v.role };
      if (v.name.trim()) body.name = v.name.trim();
      if (v.password) body.password = v.password;
      const r = await post<{ user: Member; created: boolean }>('/users', body);
      toast(r.created ? `${r.user.email} added as ${r.user.role}` : `${r.user.email} (an existing account) added as ${r.user.role}`);
      setV(blank);
      onAdded();
    } catch (err) {
      setFe(formError(err));
    } finally {
      setBusy(false);
    }
  };
  const err = (f: string) => errorFor(fe, f);
  return (
    <Card title="Add a member" id="add-member">
      <form onSubmit={submit} aria-label="Add a member" noValidate>
        <ErrorBox error={unplaced(fe, ['email', 'name', 'password', 'role'])} />
        <div className="settings-form">
          <Field id="member-email" label="Email" error={err('email')}>
            <input {...described('member-email', err('email'))} type="email" autoComplete="off" value={v.email} onChange={(e) => setV({ ...v, email: e.target.value })} />
          </Field>
          <Field id="member-name" label="Name" error={err('name')}>
            <input {...described('member-name', err('name'))} autoComplete="off" value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} />
          </Field>
          <Field id="member-password" label="Password" error={err('password')} hint="At least 10 characters. Leave empty to add someone who already has an Omnia account.">
            <input {...described('member-password', err('password'), true)} type="password" autoComplete="new-password" value={v.password} onChange={(e) => setV({ ...v, password: e.target.value })} />
          </Field>
          <Field id="member-role" label="Role" error={err('role')} hint={ROLE_HINT[v.role]}>
            <select {...described('member-role', err('role'), true)} value={v.role} onChange={(e) => setV({ ...v, role: e.target.value as Role })}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <div className="settings-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            Add member
          </button>
        </div>
      </form>
    </Card>
  );
}
