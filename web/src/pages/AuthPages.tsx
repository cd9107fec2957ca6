import { useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';

import { api, call } from '../api/client';
import { Field } from '../components/Field';
import { useServerProblems } from '../lib/server-problems';

/** Only paths of this app: a `next` from the address bar must not send the user elsewhere. */
const safeNext = (next: string | null): string =>
  next && next.startsWith('/') && !next.startsWith('//') ? next : '/';

export function LoginPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const client = useQueryClient();
  const problems = useServerProblems();
  const { register, handleSubmit, formState } = useForm<{ email: string; password: string }>();
  const submit = handleSubmit(async (body) => {
    problems.clear();
    try {
      await call(api.POST('/api/auth/login', { body }));
      await client.invalidateQueries();
      void navigate(safeNext(params.get('next')));
    } catch (error) {
      problems.take(error);
    }
  });
  return (
    <section className="form-page" aria-labelledby="login-title">
      <h1 id="login-title">{t('auth.logInTitle')}</h1>
      {params.get('signedUp') && <p className="ok">{t('auth.signedUp')}</p>}
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Field
          label={t('auth.email')}
          type="email"
          autoComplete="username"
          problem={formState.errors.email && t('fields.required')}
          {...register('email', { required: true })}
        />
        <Field
          label={t('auth.password')}
          type="password"
          autoComplete="current-password"
          problem={formState.errors.password && t('fields.required')}
          {...register('password', { required: true })}
        />
        {problems.general && (
          <p className="problem" role="alert">
            {problems.general}
          </p>
        )}
        <button type="submit" className="primary" disabled={formState.isSubmitting}>
          {t('auth.logIn')}
        </button>
      </form>
      <p>
        {t('auth.noAccount')} <Link to="/signup">{t('auth.signUp')}</Link>
      </p>
    </section>
  );
}

interface SignupForm {
  email: string;
  password: string;
  confirm: string;
  nickname: string;
}

export function SignupPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const problems = useServerProblems();
  const { register, handleSubmit, formState, getValues } = useForm<SignupForm>();
  const submit = handleSubmit(async (body) => {
    problems.clear();
    try {
      await call(api.POST('/api/auth/signup', { body }));
      void navigate('/login?signedUp=1');
    } catch (error) {
      problems.take(error);
    }
  });
  const local = (name: keyof SignupForm) => {
    const e = formState.errors[name];
    if (!e) {
      return problems.fields[name];
    }
    return e.type === 'validate' ? t('auth.mustMatch') : t('fields.required');
  };
  return (
    <section className="form-page" aria-labelledby="signup-title">
      <h1 id="signup-title">{t('auth.signUpTitle')}</h1>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Field
          label={t('auth.email')}
          type="email"
          autoComplete="email"
          problem={local('email')}
          {...register('email', { required: true })}
        />
        <Field
          label={t('auth.nickname')}
          autoComplete="nickname"
          hint={t('auth.nicknameHint')}
          problem={local('nickname')}
          {...register('nickname', { required: true })}
        />
        <Field
          label={t('auth.password')}
          type="password"
          autoComplete="new-password"
          hint={t('auth.passwordHint')}
          problem={local('password')}
          {...register('password', { required: true })}
        />
        <Field
          label={t('auth.confirmPassword')}
          type="password"
          autoComplete="new-password"
          problem={local('confirm')}
          {...register('confirm', {
            required: true,
            validate: (v) => v === getValues('password'),
          })}
        />
        {problems.general && (
          <p className="problem" role="alert">
            {problems.general}
          </p>
        )}
        <button type="submit" className="primary" disabled={formState.isSubmitting}>
          {t('auth.signUp')}
        </button>
      </form>
      <p>
        {t('auth.haveAccount')} <Link to="/login">{t('auth.logIn')}</Link>
      </p>
    </section>
  );
}
