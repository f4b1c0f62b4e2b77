// The annotations a Service owner sets to steer publication. Only these travel in events (see ANNOTATION_PREFIX),
// so a new annotation is added here and nowhere else.
import { ANNOTATION_PREFIX } from '../events/contract.ts';

export const ANNOTATIONS = {
  /** `"true"` / `"false"`: opt in when the default is not to publish, or opt out. */
  register: `${ANNOTATION_PREFIX}register`,
  /** The registry name, instead of the name template. */
  name: `${ANNOTATION_PREFIX}name`,
  /** The registry description, instead of the description template. */
  description: `${ANNOTATION_PREFIX}description`,
  /** The one Service port (name or number) to publish, instead of every port. */
  port: `${ANNOTATION_PREFIX}port`,
  /** `"true"` / `"false"`: publish the entry together with other clusters that share it (or not, over SHARED_NAMES). */
  shared: `${ANNOTATION_PREFIX}shared`,
} as const;
