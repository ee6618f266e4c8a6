import type { Db } from '../../kernel/index.js';

/** The resources layer's tables; only this file touches them. */
export interface ResourcesTables {
  resources_secrets: { name: string; owner_ref: string; claim_id: string | null; current_version: number; created_by: string; created_at: string; updated_at: string };
  resources_secret_versions: { name: string; version: number; keys: string; key_id: string; wrapped_key: string; ciphertext: string; created_by: string; created_at: string };
  resources_secret_rewraps: {
    job_id: string;
    to_key_id: string;
    phase: string;
    batch_size: number;
    batches: number;
    cursor_name: string | null;
    cursor_version: number | null;
    rewrapped: string;
    skipped: string;
    created_by: string;
    created_at: string;
    updated_at: string;
    finished_at: string | null;
  };
  resources_modules: { name: string; version: string; source: string; yaml: string; digest: string; created_by: string; created_at: string };
  resources_claims: {
    id: string;
    name: string;
    environment: string;
    module: string;
    module_version: string;
    provider: string;
    preset: string;
    inputs: string;
    tags: string;
    owner_ref: string;
    owner_team: string;
    cost_center: string;
    monthly_cost: number;
    currency: string;
    phase: string;
    step: string | null;
    outputs: string;
    last_error: string | null;
    drift: string | null;
    job_id: string | null;
    created_by: string;
    created_at: string;
    updated_at: string;
    ready_at: string | null;
    provision_ms: number | null;
  };
  resources_backups: { id: string; claim_id: string; claim_name: string; environment: string; module: string; owner_ref: string; kind: string; path: string; bytes: number; created_at: string; expires_at: string; removed_at: string | null };
  resources_spend_keys: { key: string; generation: number };
  resources_operations: { id: string; claim_id: string; kind: string; phase: string; backup_id: string | null; detail: string | null; error: string | null; job_id: string | null; created_by: string; created_at: string; updated_at: string; finished_at: string | null };
}

export const t = (db: Db) => db.tables<ResourcesTables>();
