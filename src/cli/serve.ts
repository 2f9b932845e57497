// `keydesk serve` — filled in by the serve issue.
import type { Command } from 'commander'

export function addServeCommand(_program: Command): void {}
