// The kube-apiserver simulator's public surface; the modules behind it are free to change.

export { seededRandom } from '../random.ts';
export { LB_CLEANUP_FINALIZER, loadBalancerHostname } from './cloud-controller.ts';
export { ApiError, type Status } from './errors.ts';
export type { FaultCounts, Faults, FaultTarget, GoneShape } from './faults.ts';
export {
  type Churn,
  type ChurnCounts,
  type ChurnOptions,
  type ChurnTarget,
  changesMade,
  DEFAULT_NAMESPACES,
  type GenerateOptions,
  generateServices,
  startChurn,
} from './generator.ts';
export { PATCH_CONTENT_TYPES } from './patch/index.ts';
export type { DeleteOptions, DeleteResult, WriteOptions, WriteResult } from './registry.ts';
export { RESOURCES, type ResourceKind } from './resources.ts';
export type { LoadBalancerIngress, Service, ServiceInput, ServicePort, ServiceType } from './services.ts';
export {
  ApiServerSimulator,
  kubeconfigFor,
  type ObjectRef,
  type SimulatorOptions,
  type SimulatorStats,
} from './simulator.ts';
export type { KubeObject, KubeObjectInput, ObjectMeta } from './store.ts';
