/**
 * Scheduling profiles. The default one is kube-scheduler's `default-scheduler` profile: the
 * filters in Kubernetes' order, and the scoring plugins with Kubernetes' default weights
 * (TaintToleration 3; NodeAffinity, InterPodAffinity and PodTopologySpread 2; NodeResourcesFit,
 * NodeResourcesBalancedAllocation and ImageLocality 1). Preemption (DefaultPreemption) is the
 * PostFilter step and is switched by `preemption`.
 */
import type { PluginModule } from './framework.ts';
import * as imageLocality from './plugins/image-locality-plugin.ts';
import * as interPodAffinity from './plugins/inter-pod-affinity-plugin.ts';
import * as nodeAffinity from './plugins/node-affinity-plugin.ts';
import * as nodeName from './plugins/node-name-plugin.ts';
import * as nodePorts from './plugins/node-ports-plugin.ts';
import * as balanced from './plugins/node-resources-balanced-allocation-plugin.ts';
import * as fit from './plugins/node-resources-fit-plugin.ts';
import * as nodeUnschedulable from './plugins/node-unschedulable-plugin.ts';
import * as topologySpread from './plugins/pod-topology-spread-plugin.ts';
import * as taintToleration from './plugins/taint-toleration-plugin.ts';
import * as volumeBinding from './plugins/volume-binding-plugin.ts';

export interface ProfilePlugin {
  plugin: PluginModule;
  /** Score weight; 0 (or absent) for plugins that only filter. */
  weight?: number;
}

export interface Profile {
  schedulerName: string;
  /** In order: filters run in this order, scores in any. */
  plugins: ProfilePlugin[];
  /** Run DefaultPreemption when a pod fits nowhere. */
  preemption: boolean;
  /** 0 = adaptive (50% - nodes/125, at least 5%, at least 100 nodes), as kube-scheduler. */
  percentageOfNodesToScore: number;
}

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

export function defaultProfile(): Profile {
  return {
    schedulerName: DEFAULT_SCHEDULER_NAME,
    plugins: [
      { plugin: nodeUnschedulable },
      { plugin: nodeName },
      { plugin: taintToleration, weight: 3 },
      { plugin: nodeAffinity, weight: 2 },
      { plugin: nodePorts },
      { plugin: fit, weight: 1 },
      { plugin: volumeBinding },
      { plugin: topologySpread, weight: 2 },
      { plugin: interPodAffinity, weight: 2 },
      { plugin: balanced, weight: 1 },
      { plugin: imageLocality, weight: 1 },
    ],
    preemption: true,
    percentageOfNodesToScore: 0,
  };
}
