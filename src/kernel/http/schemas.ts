import { z } from 'zod';

/** The error body every 4xx/5xx carries (Backstage's shape). */
export const ErrorBody = z.object({
  error: z.object({ name: z.string(), message: z.string() }),
  request: z.object({ method: z.string(), url: z.string() }),
  response: z.object({ statusCode: z.number() }),
});

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
};

/** Ids in paths: a closed alphabet, so a path parameter can never traverse anything. */
export const idParam = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'an id is 1-100 letters, digits, "-" or "_"'),
});
