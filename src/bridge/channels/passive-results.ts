import type { ChannelBaseConfig } from '../../config/bridge';
import type { Templates } from '../render/templates';
import { perfdataEntry, serviceState, type PassiveResult } from '../protocols/nagios';
import { DeliveryError, messageView, type ChannelContext, type OutgoingMessage } from './channel';

/**
 * The alerts of a message as passive service check results, shared by the nagios and icinga
 * channels: host and service rendered from each alert's labels, the state from its status and
 * severity (resolved → OK, critical → CRITICAL, otherwise WARNING), its value as perfdata.
 */
export function passiveResults(
  message: OutgoingMessage,
  templates: Templates<'nagios'> | Templates<'icinga'>,
  config: ChannelBaseConfig,
  context: ChannelContext,
): PassiveResult[] {
  const enriched = message.notification;
  const now = (context.now ?? Date.now)();
  const view = messageView(message, config, context, { now });
  const render = (part: 'host' | 'service' | 'output', i: number): string =>
    (templates as Templates<'nagios'>).renderAlert(part, view, i);
  return enriched.alerts.map(({ alert }, i) => {
    const host = render('host', i);
    const service = render('service', i);
    if (host === '' || service === '') {
      const what = host === '' ? 'host (no instance label? set templates.host)' : 'service';
      throw new DeliveryError(`alert ${view.alerts[i]!.name} renders an empty ${what}`, true);
    }
    const value = view.alerts[i]!.value;
    const perf = value === undefined ? undefined : perfdataEntry('value', Number(value));
    return {
      host,
      service,
      state: serviceState(alert.status, alert.labels.severity),
      output: render('output', i),
      perfdata: perf === undefined ? [] : [perf],
      time: Math.floor(now / 1000),
    };
  });
}
