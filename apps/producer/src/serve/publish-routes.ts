import { STATUS_CODES } from 'node:http';
import { PublicationName } from '@hello-rabbit/broker-config';
import type { FastifyInstance } from 'fastify';
import { bodyLimit, idempotencyHeadersSchema, publishBodySchema } from './body-schema.js';
import type { PublishService } from './publish-service.js';

/** Where messages are posted: `POST /publications/<name>/messages`. */
export const publishPath = (publication: string) => `/publications/${publication}/messages`;

interface PublishRequest {
  Body: { message: string } | string;
  Headers: { 'idempotency-key'?: string };
}

/**
 * One route per publication of the contract, each with the body schema and size limit of
 * its message kind (Fastify validates and answers 400, 413 or 415 before the handler), and
 * one for every other name, answered 404 before its body is read.
 */
export function registerPublishRoutes(app: FastifyInstance, service: PublishService): void {
  const known = Object.values(PublicationName);

  for (const publication of known) {
    app.post<PublishRequest>(
      publishPath(publication),
      {
        bodyLimit: bodyLimit(publication),
        schema: { headers: idempotencyHeadersSchema, body: publishBodySchema(publication) },
      },
      async (request, reply) => {
        const payload = typeof request.body === 'string' ? request.body : request.body.message;
        const answer = await service.publish(publication, payload, request.headers['idempotency-key']);
        if (answer.statusCode === 202) {
          if (answer.replayed === true) reply.header('idempotent-replayed', 'true');
          return reply
            .code(202)
            .send({ messageId: answer.messageId, publication: answer.publication, queue: answer.queue });
        }
        if (answer.retryAfterSeconds !== undefined) reply.header('retry-after', String(answer.retryAfterSeconds));
        return reply.code(answer.statusCode).send({
          statusCode: answer.statusCode,
          error: STATUS_CODES[answer.statusCode],
          message: answer.message,
          messageId: answer.messageId,
        });
      },
    );
  }

  app.post<{ Params: { name: string } }>(publishPath(':name'), {
    onRequest: async (request, reply) => {
      const message = `no publication named '${request.params.name}'; the publications are ${known.join(', ')}`;
      return reply.code(404).send({ statusCode: 404, error: STATUS_CODES[404], message });
    },
    // Never reached: the hook has answered.
    handler: (_request, reply) => reply,
  });
}
