import pg from 'pg';
import { protect, type ProtectOptions } from 'gatehouse/rs';
import { coursesApi } from '../../examples/courses-api/app.ts';
import { createTables } from '../../examples/courses-api/courses_store.ts';
import { listen } from './listen.ts';

export interface RunningCoursesApi {
  url: string;
  close(): Promise<void>;
}

/** The example courses API (examples/courses-api) in this process, on a free port, as main.ts wires it. */
export async function startCoursesApi(databaseUrl: string, options: ProtectOptions): Promise<RunningCoursesApi> {
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  await createTables(db);
  const http = await listen(coursesApi(db, protect(options)).callback());
  return {
    url: http.url,
    close: async () => {
      await http.close();
      await db.end();
    },
  };
}
