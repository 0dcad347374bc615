/** Where the autoscaler (and `kubectl top`, and the UI's charts) read pod usage from: the node agents. */
export interface PodUsage {
  /** CPU in nanocores, memory working set in bytes, summed over the pod's containers. */
  cpuNanoCores: number;
  memoryBytes: number;
  /** When the sample was taken. */
  timestamp: Date;
  /** Per container, same units. */
  containers?: Array<{ name: string; cpuNanoCores: number; memoryBytes: number }>;
}

export interface PodMetricsSource {
  /** The latest sample for a pod, or undefined when none is known (not running, not sampled yet). */
  podUsage(namespace: string, name: string): PodUsage | undefined;
}
