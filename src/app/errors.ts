// One error shape for the whole API: { error: { code, message, field? } } with the right 4xx/5xx status.
import type { FastifyError, FastifyInstance } from 'fastify';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, field?: string, code = 'invalid_request') => new HttpError(400, code, message, field);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    if (err instanceof HttpError) {
      if (err.headers) reply.headers(err.headers);
      return reply.status(err.statusCode).send({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const v = fe.validation[0];
      const params = v?.params as { missingProperty?: string; additionalProperty?: string } | undefined;
      const missing = params?.missingProperty ?? params?.additionalProperty;
      const path = (v?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
      const field = [fe.validationContext, path || missing].filter(Boolean).join('.') + (path && missing ? `.${missing}` : '');
      return reply.status(400).send({ error: { code: 'invalid_request', message: `${field}: ${v?.message ?? fe.message}`, field } });
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(400).send({ error: { code: 'body_too_large', message: 'request body exceeds the 500KB limit per request' } });
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send({ error: { code: 'unsupported_media_type', message: fe.message } });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({ error: { code: fe.code ?? 'invalid_request', message: fe.message } });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'internal', message: 'internal error' } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'not_found', message: `no route for ${req.method} ${req.url.split('?')[0]}` } });
  });
}
