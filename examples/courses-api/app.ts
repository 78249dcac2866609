import Koa, { type Middleware } from 'koa';
import Router from '@koa/router';
import type { Pool } from 'pg';
import { z } from 'zod';
import { requireScopes, type Auth, type AuthState } from 'gatehouse/rs';
import { deleteCourse, insertCourse, listCourses, listGrades, setGrade, updateCourse, type OrgLimit } from './courses_store.ts';
import { BadRequest, jsonBody } from './json_body.ts';

// Postgres text cannot hold a NUL character: refused as bad input here rather than failing the query with a 500.
const text = (max: number) => z.string().trim().min(1).max(max).refine((value) => !value.includes('\0'), 'must not contain a NUL character');
const NewCourse = z.object({ title: text(200), org: text(100).optional() });
const CourseChange = z.object({ title: text(200) });
const NewGrade = z.object({ grade: text(10) });
const Student = text(100);

/** The courses a token may see: those of its `course_org` filter, or all when it has none. */
const orgsOf = (auth: Auth): OrgLimit => auth.filters.course_org;

/**
 * The courses API. `guard` is the kit's protect() (in main.ts); every route goes through it,
 * so every method needs its scope (GET read, POST create, PATCH update, DELETE delete).
 */
export function coursesApi(db: Pool, guard: Middleware<AuthState>): Koa<AuthState> {
  const router = new Router<AuthState>();

  router.get('/courses', guard, async (ctx) => {
    ctx.body = await listCourses(db, orgsOf(ctx.state.auth));
  });

  router.post('/courses', guard, async (ctx) => {
    const course = await jsonBody(ctx, NewCourse);
    const orgs = orgsOf(ctx.state.auth);
    const org = course.org ?? (orgs?.length === 1 ? orgs[0] : undefined);
    if (org === undefined) throw new BadRequest('org: name the course\'s organization');
    if (orgs && !orgs.includes(org)) {
      ctx.status = 403;
      ctx.body = { error: 'forbidden', error_description: `this token is limited to ${orgs.join(', ')}` };
      return;
    }
    ctx.status = 201;
    ctx.body = await insertCourse(db, { org, title: course.title });
  });

  router.patch('/courses/:id', guard, async (ctx) => {
    const { title } = await jsonBody(ctx, CourseChange);
    const course = await updateCourse(db, orgsOf(ctx.state.auth), courseId(ctx.params.id), title);
    if (course) ctx.body = course;
  });

  router.delete('/courses/:id', guard, async (ctx) => {
    if (await deleteCourse(db, orgsOf(ctx.state.auth), courseId(ctx.params.id))) ctx.status = 204;
  });

  // A person sees their own grades; a server, or a person with the `grades` enterprise scope, all of them.
  router.get('/courses/:id/grades', guard, async (ctx) => {
    const { auth } = ctx.state;
    const own = auth.user && !auth.scopes.includes('grades') ? (auth.username ?? '') : undefined;
    const grades = await listGrades(db, orgsOf(auth), courseId(ctx.params.id), own);
    if (grades) ctx.body = grades;
  });

  // Setting a grade is the registrar's: the `grades` enterprise scope, besides `update`.
  router.put('/courses/:id/grades/:student', guard, requireScopes('grades'), async (ctx) => {
    const { grade } = await jsonBody(ctx, NewGrade);
    const name = Student.safeParse(ctx.params.student);
    if (!name.success) throw new BadRequest(`student: ${name.error.issues[0]!.message}`);
    const student = name.data;
    if (await setGrade(db, orgsOf(ctx.state.auth), courseId(ctx.params.id), { student, grade })) ctx.body = { student, grade };
  });

  const app = new Koa<AuthState>();
  app.use(cors);
  app.use(async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        // A course outside the token's orgs is as absent as one never made. (Koa turns a body set
        // on its default 404 into a 200, so the status is set again.)
        ctx.body = { error: 'not_found', error_description: 'no such course' };
        ctx.status = 404;
      }
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: error.message };
    }
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

/**
 * Browsers' single-page applications on other origins may call the API. Any origin will do:
 * the credential is the bearer token the page holds, never a cookie, so a foreign page gets
 * nothing a token would not give it. A preflight carries no token and is answered here.
 */
const cors: Middleware = async (ctx, next) => {
  if (!ctx.get('origin')) return next();
  ctx.set({ 'access-control-allow-origin': '*', 'access-control-expose-headers': 'WWW-Authenticate' });
  if (ctx.method !== 'OPTIONS' || !ctx.get('access-control-request-method')) return next();
  ctx.set({ 'access-control-allow-methods': 'GET, POST, PATCH, PUT, DELETE', 'access-control-allow-headers': 'Authorization, Content-Type', 'access-control-max-age': '600' });
  ctx.status = 204;
};

function courseId(raw: string | undefined): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id < 1 || id > 2 ** 31 - 1) throw new BadRequest('the course id is a positive integer');
  return id;
}
