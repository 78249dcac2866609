import type { Pool } from 'pg';

/** The example's data: courses and their grades, in its own tables. */
export interface Course {
  id: number;
  org: string;
  title: string;
}

export interface Grade {
  student: string;
  grade: string;
}

/** The orgs a token limits the caller to; undefined when it names none (the caller sees every org). */
export type OrgLimit = readonly string[] | undefined;

/** Creates the tables on first start (an example needs no migration tool). */
export async function createTables(db: Pool): Promise<void> {
  await db.query(`
    CREATE TABLE IF NOT EXISTS courses (
      id serial PRIMARY KEY,
      org text NOT NULL,
      title text NOT NULL
    );
    CREATE INDEX IF NOT EXISTS courses_org ON courses (org);
    CREATE TABLE IF NOT EXISTS grades (
      course_id integer NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      student text NOT NULL,
      grade text NOT NULL,
      PRIMARY KEY (course_id, student)
    );`);
}

// The org filter is part of every statement's WHERE clause: the database returns only the rows
// the token may see, so a large table is never loaded to be filtered in code (seeds, 000).
const ORG = '($1::text[] IS NULL OR org = ANY($1::text[]))';
const orgParam = (orgs: OrgLimit) => (orgs === undefined ? null : [...orgs]);

export async function listCourses(db: Pool, orgs: OrgLimit): Promise<Course[]> {
  return (await db.query<Course>(`SELECT id, org, title FROM courses WHERE ${ORG} ORDER BY id`, [orgParam(orgs)])).rows;
}

export async function insertCourse(db: Pool, course: Omit<Course, 'id'>): Promise<Course> {
  return (await db.query<Course>('INSERT INTO courses (org, title) VALUES ($1, $2) RETURNING id, org, title', [course.org, course.title])).rows[0]!;
}

/** The course after the change, or undefined when it does not exist or is outside `orgs`. */
export async function updateCourse(db: Pool, orgs: OrgLimit, id: number, title: string): Promise<Course | undefined> {
  return (await db.query<Course>(`UPDATE courses SET title = $3 WHERE ${ORG} AND id = $2 RETURNING id, org, title`, [orgParam(orgs), id, title])).rows[0];
}

export async function deleteCourse(db: Pool, orgs: OrgLimit, id: number): Promise<boolean> {
  return ((await db.query(`DELETE FROM courses WHERE ${ORG} AND id = $2`, [orgParam(orgs), id])).rowCount ?? 0) > 0;
}

/** The course's grades (only `student`'s when given), or undefined when the course is not visible. */
export async function listGrades(db: Pool, orgs: OrgLimit, courseId: number, student?: string): Promise<Grade[] | undefined> {
  const course = await db.query(`SELECT 1 FROM courses WHERE ${ORG} AND id = $2`, [orgParam(orgs), courseId]);
  if (!course.rowCount) return undefined;
  const grades = await db.query<Grade>(
    'SELECT student, grade FROM grades WHERE course_id = $1 AND ($2::text IS NULL OR student = $2) ORDER BY student',
    [courseId, student ?? null],
  );
  return grades.rows;
}

/** Sets a grade in a visible course; false when the course is not visible. */
export async function setGrade(db: Pool, orgs: OrgLimit, courseId: number, grade: Grade): Promise<boolean> {
  const result = await db.query(
    `INSERT INTO grades (course_id, student, grade) SELECT id, $3, $4 FROM courses WHERE ${ORG} AND id = $2
     ON CONFLICT (course_id, student) DO UPDATE SET grade = EXCLUDED.grade`,
    [orgParam(orgs), courseId, grade.student, grade.grade],
  );
  return (result.rowCount ?? 0) > 0;
}
