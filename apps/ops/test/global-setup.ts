import { enableManagement, requireBroker } from '@hello-rabbit/testkit';

/**
 * The ops tool reads the broker through the management API, which the shared broker does
 * not enable by default: enable it once for the whole run (idempotent: nothing is run when
 * it already answers, as with the CI image). A broker that does not answer fails the run
 * with a clear message.
 */
export default async function setup(): Promise<void> {
  await requireBroker();
  await enableManagement();
}
