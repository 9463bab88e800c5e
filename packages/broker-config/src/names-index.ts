// The contract's names and routing rules without its message schemas (no zod): what a
// command line needs to check its arguments before it loads anything else. Everything here
// is also in the package's main entry point.
export { QueueName, PublicationName, SubscriptionName, ExchangeName, RpcName, isExchangeName } from './names.js';
export {
  exchangePublications,
  exchangeSubscriptions,
  routingKeyProblem,
  bindingKeyProblems,
  FIBONACCI_MAX_N,
} from './exchanges.js';
