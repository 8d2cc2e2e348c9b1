// Sign-in, and on first run the owner's account (POST /api/auth/setup). Errors are the API's own words, next to the
// field they name (a short password, a malformed email) or above the form (wrong email or password, too many tries).
import { type FormEvent, useState } from 'react';
import { ApiError, post } from '../api.ts';
import { type Me, useSession } from '../session.tsx';
import { Field, described, sentence } from '../ui.tsx';

export function Login({ message }: { message?: string }) {
  const s = useSession();
  const [mode, setMode] = useState<'login' | 'setup'>(s.setupRequired ? 'setup' : 'login');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me =
        mode === 'setup'
          ? await post<Me>('/auth/setup', { email, password, ...(name.trim() ? { name: name.trim() } : {}) })
          : await post<Me>('/auth/login', { email, password });
      s.signedIn(me);
    } catch (err) {
      setError(err as Error);
      if (err instanceof ApiError && err.status === 409 && mode === 'setup') setMode('login');
    } finally {
      setBusy(false);
    }
  };

  const fieldErr = (f: string) => (error instanceof ApiError && error.field === f ? sentence(error.message) : null);
  const formErr = error && !(error instanceof ApiError && error.field && ['email', 'password', 'name'].includes(error.field)) ? error.message : null;

  return (
    <div className="login-wrap">
      <main className="login-card" id="main">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          Omnia
        </div>
        <h1>{mode === 'setup' ? 'Create the owner account' : 'Sign in'}</h1>
        {mode === 'setup' ? <p className="muted">First run: this account will own the default workspace. You can add your team afterwards.</p> : null}
        {message && !error ? (
          <p className="notice notice-info" role="status">
            {message}
          </p>
        ) : null}
        {formErr ? (
          <p className="notice notice-error" role="alert">
            {sentence(formErr)}
          </p>
        ) : null}
        <form onSubmit={submit} noValidate>
          {mode === 'setup' ? (
            <Field id="name" label="Your name" error={fieldErr('name')}>
              <input {...described('name', fieldErr('name'))} autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
            </Field>
          ) : null}
          <Field id="email" label="Email" error={fieldErr('email')}>
            <input {...described('email', fieldErr('email'))} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
          </Field>
          <Field id="password" label="Password" error={fieldErr('password')} hint={mode === 'setup' ? 'At least 10 characters.' : undefined}>
            <input
              {...described('password', fieldErr('password'), mode === 'setup')}
              type="password"
              autoComplete={mode === 'setup' ? 'new-password' : 'current-password'}
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </Field>
          <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
            {busy ? 'Please wait…' : mode === 'setup' ? 'Create account and sign in' : 'Sign in'}
          </button>
        </form>
        <p className="login-switch" hidden={s.setupDone && mode === 'login'}>
          {mode === 'setup' ? (
            <button type="button" className="linklike" onClick={() => (setMode('login'), setError(null))}>
              I already have an account
            </button>
          ) : (
            <button type="button" className="linklike" onClick={() => (setMode('setup'), setError(null))}>
              First run? Create the owner account
            </button>
          )}
        </p>
      </main>
    </div>
  );
}
