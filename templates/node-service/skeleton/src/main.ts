{%- if values.database %}
import pg from 'pg';
{%- endif %}
import { createService, type HealthCheck } from './server.js';

const port = Number(process.env.PORT ?? ${{ values.port }});
const checks: Record<string, HealthCheck> = {};
{%- if values.database %}

// DATABASE_URL comes from the PostgreSQL resource declared in score.yaml.
const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl === undefined) throw new Error('DATABASE_URL is not set; score.yaml declares a PostgreSQL resource for it');
const pool = new pg.Pool({ connectionString: databaseUrl, max: 5 });
checks.database = async () => {
  await pool.query('select 1');
};
{%- endif %}

const server = createService({ checks });
server.listen(port, () => console.log(`${{ values.name }} listening on port ${port}`));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
  });
}
