/**
 * Attribute names of the spans: OpenTelemetry's semantic conventions (HTTP server and client,
 * messaging for RabbitMQ, database) and our own `item_sync.*` ones. The stable names come from
 * @opentelemetry/semantic-conventions; the messaging ones and `db.system` are still
 * "development" there, and the package asks users to copy those rather than import its
 * incubating entry point (which may change in any minor release) — they are written out here.
 */
export {
  ATTR_CLIENT_ADDRESS,
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from "@opentelemetry/semantic-conventions";

export const ATTR_URL_TEMPLATE = "url.template";
/** The pre-1.26 name of db.system.name, still what many backends filter on. */
export const ATTR_DB_SYSTEM = "db.system";
export const ATTR_MESSAGING_SYSTEM = "messaging.system";
export const ATTR_MESSAGING_DESTINATION_NAME = "messaging.destination.name";
export const ATTR_MESSAGING_OPERATION_TYPE = "messaging.operation.type";
export const ATTR_MESSAGING_OPERATION_NAME = "messaging.operation.name";
export const ATTR_MESSAGING_MESSAGE_ID = "messaging.message.id";
export const ATTR_MESSAGING_MESSAGE_BODY_SIZE = "messaging.message.body.size";
export const ATTR_MESSAGING_RABBITMQ_ROUTING_KEY = "messaging.rabbitmq.destination.routing_key";
export const ATTR_MESSAGING_RABBITMQ_DELIVERY_TAG = "messaging.rabbitmq.message.delivery_tag";
export const ATTR_MESSAGING_CONSUMER_GROUP_NAME = "messaging.consumer.group.name";
export const MESSAGING_SYSTEM_RABBITMQ = "rabbitmq";

/** Ours: what an operator searches by (TRACE_URL_TEMPLATE finds a run's spans by the first). */
export const ATTR_EXECUTION_ID = "item_sync.execution.id";
export const ATTR_PROJECT_ID = "item_sync.project.id";
export const ATTR_MESSAGE_ID = "item_sync.message.id";
export const ATTR_MESSAGE_TYPE = "item_sync.message.type";
