/** How `plan` and `bench` print a host's Edge TPUs and the placement of the tenants on them. */
import type { Workload } from '@swapless/core';

/**
 * `usb3` for one device, `2 × pcie (pci:0, pci:1)` for several of one profile, `2 devices (usb:0 usb3, pci:0 pcie)`
 * for several of different profiles.
 */
export function devicesText(workload: Workload): string {
  const d = workload.devices;
  if (d === undefined || d.length <= 1) return d?.[0]?.id ? `${d[0].id} (${d[0].profile})` : workload.device;
  if (d.some((x) => x.profile !== d[0]!.profile))
    return `${d.length} devices (${d.map((x) => `${x.id} ${x.profile}`).join(', ')})`;
  return `${d.length} × ${d[0]!.profile} (${d.map((x) => x.id).join(', ')})`;
}

/** `placement: pci:0 ρ 0.41 (a, c) · pci:1 ρ 0.37 (b)`: each device's tenants and predicted TPU utilisation. */
export function placementText(
  devices: readonly { id: string; tpuUtilization: number; tenants: readonly string[] }[],
): string {
  return `placement: ${devices
    .map((d) => `${d.id} ρ ${d.tpuUtilization.toFixed(2)} (${d.tenants.join(', ') || 'idle'})`)
    .join(' · ')}`;
}
