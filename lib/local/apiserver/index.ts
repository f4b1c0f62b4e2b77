// The kube-apiserver simulator's public surface; the modules behind it are free to change.

export { seededRandom } from '../random.ts';
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
export { ApiServerSimulator, type SimulatorOptions, type SimulatorStats } from './simulator.ts';
export type { LoadBalancerIngress, Service, ServiceInput, ServicePort, ServiceType } from './store.ts';
