// Kysely's PostgreSQL introspector lists every table of the database (with a name → oid lookup per column) even
// though the migrator only asks "does my migration table exist in my schema?". When several installs share one
// database (the test suite gives each file its own schema), a schema dropped during that query makes it fail with
// "schema … does not exist" for a schema that is not ours. This one answers from our schema only.
import { type DatabaseIntrospector, type DatabaseMetadata, type Kysely, PostgresDialect, type SchemaMetadata, type TableMetadata, sql } from 'kysely';

class SchemaIntrospector implements DatabaseIntrospector {
  constructor(
    private readonly db: Kysely<any>,
    /** null: the connection's current schema (the first existing one of its search_path). */
    private readonly schema: string | null,
  ) {}

  private get target() {
    return this.schema === null ? sql`current_schema()` : sql`${this.schema}`;
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const r = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace where nspname = ${this.target}`.execute(this.db);
    return r.rows;
  }

  async getTables(): Promise<TableMetadata[]> {
    const r = await sql<{ name: string; schema: string; type: string }>`
      select table_name as name, table_schema as schema, table_type as type from information_schema.tables where table_schema = ${this.target}`.execute(this.db);
    return r.rows.map((t) => ({ name: t.name, schema: t.schema, isView: t.type === 'VIEW', columns: [] }));
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

/** PostgresDialect whose introspection (used by the migrator) sees only `schema` (null: the current schema). */
export class SchemaScopedPostgresDialect extends PostgresDialect {
  constructor(
    config: ConstructorParameters<typeof PostgresDialect>[0],
    private readonly schema: string | null,
  ) {
    super(config);
  }

  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SchemaIntrospector(db, this.schema);
  }
}
