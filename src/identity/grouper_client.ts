import type { GroupSource } from './group_source.ts';
import { StorageUnavailable } from '../storage/errors.ts';

// The person is waiting on this during sign-in and every introspection of their tokens.
const TIMEOUT_MS = 3000;
const API_VERSION = 'v2_5_000';

interface GetGroupsLiteResult {
  WsGetGroupsLiteResult?: {
    resultMetadata?: { success?: string; resultCode?: string; resultMessage?: string };
    wsSubject?: { resultCode?: string; success?: string };
    wsGroups?: { name?: string }[];
  };
}

/**
 * Group membership from Grouper Web Services (REST, JSON, the "get groups lite" call:
 * GET {GROUPER_URL}/json/v2_5_000/subjects/{subjectId}/groups). Credentials may ride in the
 * URL (https://user:pass@host/grouper-ws/servicesRest) and are sent as HTTP Basic.
 */
export function grouperGroupSource(grouperUrl: string): GroupSource {
  const base = new URL(grouperUrl);
  const authorization = base.username
    ? `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`
    : undefined;
  base.username = '';
  base.password = '';
  const root = base.toString().replace(/\/$/, '');

  return {
    async groupsOf(username) {
      let response: Response;
      try {
        response = await fetch(`${root}/json/${API_VERSION}/subjects/${encodeURIComponent(username)}/groups`, {
          headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) },
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (error) {
        throw new StorageUnavailable(error);
      }
      const body = (await response.json().catch(() => ({}))) as GetGroupsLiteResult;
      const result = body.WsGetGroupsLiteResult;
      // An unknown person is a member of nothing, not an outage.
      if (result?.wsSubject?.resultCode === 'SUBJECT_NOT_FOUND') return [];
      if (!response.ok || result?.resultMetadata?.success !== 'T') {
        throw new StorageUnavailable(new Error(`Grouper answered ${response.status} ${result?.resultMetadata?.resultCode ?? 'without a result'}`));
      }
      return (result.wsGroups ?? []).map((group) => group.name).filter((name): name is string => Boolean(name));
    },
  };
}
