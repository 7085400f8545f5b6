// Log-in form shared by the kiosk and the dashboard. On success the session token stays in memory
// (api-client.tsx); the password field is cleared whatever happens.

import { useState } from 'preact/hooks';
import { logIn, type Account } from './api-client';
import { Field, fieldErrorsOf } from './field-errors';

export function LoginForm(props: { title: string; onLoggedIn: (a: Account) => void; extra?: preact.ComponentChildren }): preact.JSX.Element {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<{ fields: Record<string, string>; general: string }>({ fields: {}, general: '' });

  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    setBusy(true);
    try {
      const a = await logIn(username.trim(), password);
      setErrors({ fields: {}, general: '' });
      props.onLoggedIn(a);
    } catch (e) {
      setErrors(fieldErrorsOf(e, ['username', 'password']));
    } finally {
      setPassword('');
      setBusy(false);
    }
  };

  return (
    <form class="card login" onSubmit={submit} aria-labelledby="login-title">
      <h1 id="login-title">{props.title}</h1>
      <Field id="login-username" label="Username" error={errors.fields['username']}>
        {(d, inv) => <input id="login-username" name="username" autocomplete="username" required value={username} aria-describedby={d} aria-invalid={inv} onInput={(e) => setUsername(e.currentTarget.value)} />}
      </Field>
      <Field id="login-password" label="Password" error={errors.fields['password']}>
        {(d, inv) => <input id="login-password" name="password" type="password" autocomplete="current-password" required value={password} aria-describedby={d} aria-invalid={inv} onInput={(e) => setPassword(e.currentTarget.value)} />}
      </Field>
      {errors.general !== '' && (
        <p class="form-error" role="alert">
          {errors.general}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Logging in…' : 'Log in'}
      </button>
      {props.extra}
    </form>
  );
}
