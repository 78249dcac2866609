import { listen } from './listen.ts';

/**
 * Grouper Web Services as far as Gatehouse can tell: the REST "get groups lite" call
 * (GET .../servicesRest/json/v2_5_000/subjects/{subjectId}/groups) behind HTTP Basic, answering
 * WsGetGroupsLiteResult documents the way Grouper 2.5 does, SUBJECT_NOT_FOUND included.
 */
export interface GrouperServer {
  /** The GROUPER_URL to configure, credentials included. */
  url: string;
  members: Map<string, string[]>;
  close(): Promise<void>;
}

export async function startGrouperServer(user = 'gatehouse', password = 's3cret'): Promise<GrouperServer> {
  const members = new Map<string, string[]>();
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const http = await listen((req, res) => {
    const match = /^\/grouper-ws\/servicesRest\/json\/v2_5_000\/subjects\/([^/]+)\/groups$/.exec(req.url ?? '');
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="Grouper"' }).end();
      return;
    }
    if (req.method !== 'GET' || !match) {
      res.writeHead(404).end();
      return;
    }
    const subjectId = decodeURIComponent(match[1]!);
    const groups = members.get(subjectId);
    const found = groups !== undefined;
    res.writeHead(found ? 200 : 500, {
      'content-type': 'application/json;charset=UTF-8',
      'x-grouper-resultcode': found ? 'SUCCESS' : 'SUBJECT_NOT_FOUND',
      'x-grouper-success': found ? 'T' : 'F',
    });
    res.end(JSON.stringify({
      WsGetGroupsLiteResult: {
        responseMetadata: { millis: '12', serverVersion: '2.5.0' },
        resultMetadata: found
          ? { resultCode: 'SUCCESS', resultMessage: `Success for: clientVersion: 2.5.0, subjectLookups: [0]: WsSubjectLookup[subjectId=${subjectId}]`, success: 'T' }
          : { resultCode: 'SUBJECT_NOT_FOUND', resultMessage: `Subject not found: ${subjectId}`, success: 'F' },
        ...(found ? { wsGroups: groups.map((name, i) => ({ name, displayName: name, extension: name.split(':').at(-1), enabled: 'T', typeOfGroup: 'group', uuid: `uuid-${i}` })) } : {}),
        wsSubject: found
          ? { id: subjectId, name: subjectId, resultCode: 'SUCCESS', sourceId: 'ldap', success: 'T' }
          : { id: subjectId, resultCode: 'SUBJECT_NOT_FOUND', success: 'F' },
      },
    }));
  });
  const url = new URL('/grouper-ws/servicesRest', http.url);
  url.username = user;
  url.password = password;
  return { url: url.toString(), members, close: http.close };
}
