import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';

import { api, call, type Goods } from '../api/client';
import { ConfirmButton } from '../components/ConfirmButton';
import { Field } from '../components/Field';
import { fromLocalInput, toLocalInput } from '../lib/datetime';
import { useServerProblems } from '../lib/server-problems';
import { describeError } from '../lib/words';

export function HostPage() {
  const { t, i18n } = useTranslation();
  const client = useQueryClient();
  const [problem, setProblem] = useState<string>();
  const sales = useQuery({
    queryKey: ['sales'],
    queryFn: () => call(api.GET('/api/me/sales', { params: { query: { limit: 100 } } })),
    refetchInterval: 5000,
  });
  const remove = async (goodsId: number) => {
    setProblem(undefined);
    try {
      await call(api.DELETE('/api/goods/{goodsId}', { params: { path: { goodsId } } }));
    } catch (error) {
      setProblem(describeError(t, error));
    }
    await client.invalidateQueries();
  };
  const date = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' });
  return (
    <section aria-labelledby="host-title">
      <h1 id="host-title">{t('host.title')}</h1>
      <p>
        <Link to="/host/new" className="button-link">
          {t('host.newShow')}
        </Link>
      </p>
      {problem && (
        <p className="problem" role="alert">
          {problem}
        </p>
      )}
      {sales.isPending && <p>{t('app.loading')}</p>}
      {sales.data?.items.length === 0 && <p>{t('host.empty')}</p>}
      {sales.data && sales.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('tickets.show')}</th>
                <th scope="col">{t('goods.showDate')}</th>
                <th scope="col">{t('host.booked')}</th>
                <th scope="col">{t('host.waitlist')}</th>
                <th scope="col">{t('tickets.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {sales.data.items.map(({ goods, waitlist }) => (
                <tr key={goods.id}>
                  <td>
                    <Link to={`/goods/${goods.id}`}>{goods.title}</Link>
                  </td>
                  <td>{date.format(new Date(goods.showDate))}</td>
                  <td>
                    {t('host.bookedValue', {
                      booked: goods.bookingCount,
                      limit: goods.bookingLimit,
                    })}
                  </td>
                  <td>{waitlist}</td>
                  <td>
                    <Link to={`/host/goods/${goods.id}`}>{t('host.edit')}</Link>{' '}
                    <ConfirmButton
                      label={t('host.delete')}
                      question={t('host.confirmDelete')}
                      confirmLabel={t('host.confirmDeleteYes')}
                      onConfirm={() => remove(goods.id)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

interface GoodsFormValues {
  title: string;
  content: string;
  price: string;
  imgUrl: string;
  showDate: string;
  bookingLimit: string;
  saleStartsAt: string;
  saleEndsAt: string;
  maxPerUser: string;
}

const EMPTY: GoodsFormValues = {
  title: '',
  content: '',
  price: '',
  imgUrl: '',
  showDate: '',
  bookingLimit: '',
  saleStartsAt: '',
  saleEndsAt: '',
  maxPerUser: '1',
};

/** A goods as the form's text (times in this browser's zone); a new one starts empty. */
const valuesOf = (g?: Goods): GoodsFormValues =>
  g === undefined
    ? EMPTY
    : {
        title: g.title,
        content: g.content,
        price: String(g.price),
        imgUrl: g.imgUrl,
        showDate: toLocalInput(g.showDate),
        bookingLimit: String(g.bookingLimit),
        saleStartsAt: toLocalInput(g.saleStartsAt),
        saleEndsAt: toLocalInput(g.saleEndsAt),
        maxPerUser: String(g.maxPerUser),
      };

/** The form's text as the API's body: numbers as numbers, local times as instants. */
function bodyOf(v: GoodsFormValues) {
  return {
    title: v.title,
    content: v.content,
    price: Number(v.price),
    imgUrl: v.imgUrl,
    showDate: fromLocalInput(v.showDate) ?? v.showDate,
    bookingLimit: Number(v.bookingLimit),
    saleStartsAt: fromLocalInput(v.saleStartsAt),
    saleEndsAt: fromLocalInput(v.saleEndsAt),
    maxPerUser: Number(v.maxPerUser),
  };
}

function GoodsForm({ goods }: { goods?: Goods }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const client = useQueryClient();
  const problems = useServerProblems();
  const { register, handleSubmit, formState } = useForm<GoodsFormValues>({
    defaultValues: valuesOf(goods),
  });
  const submit = handleSubmit(async (values) => {
    problems.clear();
    try {
      const body = bodyOf(values);
      const saved = goods
        ? await call(
            api.PATCH('/api/goods/{goodsId}', { params: { path: { goodsId: goods.id } }, body }),
          )
        : await call(api.POST('/api/goods', { body }));
      await client.invalidateQueries();
      void navigate(`/host?saved=${saved.id}`);
    } catch (error) {
      problems.take(error);
    }
  });
  const problem = (name: keyof GoodsFormValues) =>
    formState.errors[name] ? t('fields.required') : problems.fields[name];
  const required = { required: true };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="goods-form">
      <Field
        label={t('host.fields.title')}
        problem={problem('title')}
        {...register('title', required)}
      />
      <div className="field">
        <label htmlFor="goods-content">{t('host.fields.content')}</label>
        <textarea
          id="goods-content"
          rows={4}
          aria-invalid={problem('content') ? true : undefined}
          {...register('content')}
        />
        {problem('content') && (
          <p className="problem" role="alert">
            {problem('content')}
          </p>
        )}
      </div>
      <Field
        label={t('host.fields.price')}
        type="number"
        min={0}
        problem={problem('price')}
        {...register('price', required)}
      />
      <Field
        label={t('host.fields.imgUrl')}
        type="url"
        problem={problem('imgUrl')}
        {...register('imgUrl', required)}
      />
      <Field
        label={t('host.fields.showDate')}
        type="datetime-local"
        problem={problem('showDate')}
        {...register('showDate', required)}
      />
      <Field
        label={t('host.fields.bookingLimit')}
        type="number"
        min={1}
        problem={problem('bookingLimit')}
        {...register('bookingLimit', required)}
      />
      <Field
        label={t('host.fields.maxPerUser')}
        type="number"
        min={1}
        max={100}
        problem={problem('maxPerUser')}
        {...register('maxPerUser', required)}
      />
      <Field
        label={t('host.fields.saleStartsAt')}
        hint={t('host.optional')}
        type="datetime-local"
        problem={problem('saleStartsAt')}
        {...register('saleStartsAt')}
      />
      <Field
        label={t('host.fields.saleEndsAt')}
        hint={t('host.optional')}
        type="datetime-local"
        problem={problem('saleEndsAt')}
        {...register('saleEndsAt')}
      />
      {problems.general && (
        <p className="problem" role="alert">
          {problems.general}
        </p>
      )}
      <button type="submit" className="primary" disabled={formState.isSubmitting}>
        {t('host.save')}
      </button>
    </form>
  );
}

export function NewGoodsPage() {
  const { t } = useTranslation();
  return (
    <section className="form-page" aria-labelledby="new-title">
      <h1 id="new-title">{t('host.newShow')}</h1>
      <GoodsForm />
    </section>
  );
}

export function EditGoodsPage() {
  const { t } = useTranslation();
  const goodsId = Number(useParams().goodsId);
  const goods = useQuery({
    queryKey: ['goods', 'one', goodsId],
    queryFn: () => call(api.GET('/api/goods/{goodsId}', { params: { path: { goodsId } } })),
  });
  return (
    <section className="form-page" aria-labelledby="edit-title">
      <h1 id="edit-title">{t('host.editShow')}</h1>
      {goods.error && <p role="alert">{describeError(t, goods.error)}</p>}
      {goods.data && <GoodsForm goods={goods.data} />}
    </section>
  );
}
