import type { Slice } from './index'

export type Screen = 'keys' | 'owners' | 'policy' | 'audit' | 'attention' | 'settings'

export interface Notice {
  id: number
  tone: 'success' | 'error' | 'info'
  text: string
}

export interface UiSlice {
  screen: Screen
  notice: Notice | null
  go(screen: Screen): void
  notify(tone: Notice['tone'], text: string): void
  dismissNotice(): void
}

export const createUiSlice: Slice<UiSlice> = (set, get) => {
  let seq = 0
  return {
    screen: 'keys',
    notice: null,
    go(screen) {
      if (get().screen === screen) return
      set({ screen })
    },
    notify(tone, text) {
      seq += 1
      set({ notice: { id: seq, tone, text } })
    },
    dismissNotice() {
      set({ notice: null })
    },
  }
}
