/** Inline SVG icons (no remote assets). Decorative: hidden from assistive technology. */
import type { ReactElement } from 'react'

type P = { className?: string }

function svg(path: ReactElement, className = 'icon'): ReactElement {
  return (
    <svg className={className} viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      {path}
    </svg>
  )
}

export const IconKey = ({ className }: P) =>
  svg(<><circle cx="7.5" cy="15.5" r="4.5" /><path d="M10.7 12.3 20 3M16 7l3 3M14 9l2 2" /></>, className)
export const IconUsers = ({ className }: P) =>
  svg(<><circle cx="9" cy="8" r="3.5" /><path d="M2.5 20c.8-3.6 3.4-5.5 6.5-5.5s5.7 1.9 6.5 5.5" /><path d="M16 4.6a3.5 3.5 0 0 1 0 6.8M18 14.8c1.9.7 3.1 2.4 3.5 5.2" /></>, className)
export const IconShield = ({ className }: P) =>
  svg(<><path d="M12 3 4.5 6v5.5c0 4.7 3.2 8.3 7.5 9.5 4.3-1.2 7.5-4.8 7.5-9.5V6L12 3z" /><path d="m9 12 2 2 4-4" /></>, className)
export const IconList = ({ className }: P) =>
  svg(<><path d="M9 6h11M9 12h11M9 18h11" /><circle cx="4.5" cy="6" r="1" /><circle cx="4.5" cy="12" r="1" /><circle cx="4.5" cy="18" r="1" /></>, className)
export const IconSearch = ({ className }: P) => svg(<><circle cx="11" cy="11" r="6.5" /><path d="m20 20-4.2-4.2" /></>, className)
export const IconPlus = ({ className }: P) => svg(<path d="M12 5v14M5 12h14" />, className)
export const IconX = ({ className }: P) => svg(<path d="M6 6l12 12M18 6 6 18" />, className)
export const IconCheck = ({ className }: P) => svg(<path d="m5 12.5 4.5 4.5L19 7.5" />, className)
export const IconWarning = ({ className }: P) =>
  svg(<><path d="M12 3.5 2.5 20h19L12 3.5z" /><path d="M12 10v4.5M12 17.5v.01" /></>, className)
export const IconInfo = ({ className }: P) => svg(<><circle cx="12" cy="12" r="9" /><path d="M12 11v5.5M12 7.5v.01" /></>, className)
export const IconCopy = ({ className }: P) =>
  svg(<><rect x="8.5" y="8.5" width="11" height="11" rx="2" /><path d="M15.5 8.5V6.5a2 2 0 0 0-2-2h-7a2 2 0 0 0-2 2v7a2 2 0 0 0 2 2h2" /></>, className)
export const IconDownload = ({ className }: P) => svg(<><path d="M12 4v11M7 10.5l5 5 5-5" /><path d="M4.5 19.5h15" /></>, className)
export const IconUpload = ({ className }: P) => svg(<><path d="M12 16V5M7 9.5l5-5 5 5" /><path d="M4.5 19.5h15" /></>, className)
export const IconClock = ({ className }: P) => svg(<><circle cx="12" cy="12" r="8.5" /><path d="M12 7.5V12l3 2" /></>, className)
export const IconSort = ({ className }: P) => svg(<path d="m8 9 4-4 4 4M8 15l4 4 4-4" />, className)
export const IconArrowUp = ({ className }: P) => svg(<path d="M12 19V5M6 11l6-6 6 6" />, className)
export const IconArrowDown = ({ className }: P) => svg(<path d="M12 5v14M6 13l6 6 6-6" />, className)
export const IconRefresh = ({ className }: P) => svg(<><path d="M20 11a8 8 0 0 0-14.3-4.5L4 8.5" /><path d="M4 4v4.5h4.5M4 13a8 8 0 0 0 14.3 4.5L20 15.5" /><path d="M20 20v-4.5h-4.5" /></>, className)
export const IconFolder = ({ className }: P) => svg(<path d="M3.5 7.5a2 2 0 0 1 2-2h4l2 2.5h7a2 2 0 0 1 2 2v7.5a2 2 0 0 1-2 2h-13a2 2 0 0 1-2-2v-10z" />, className)
export const IconEdit = ({ className }: P) => svg(<><path d="M4 20h4L19 9l-4-4L4 16v4z" /><path d="m13.5 6.5 4 4" /></>, className)
export const IconPause = ({ className }: P) => svg(<><circle cx="12" cy="12" r="8.5" /><path d="M10 9v6M14 9v6" /></>, className)
export const IconPlay = ({ className }: P) => svg(<><circle cx="12" cy="12" r="8.5" /><path d="m10 8.5 5.5 3.5-5.5 3.5v-7z" /></>, className)
export const IconFilter = ({ className }: P) => svg(<path d="M4 5.5h16l-6.2 7.2v5.3l-3.6 1.8v-7.1L4 5.5z" />, className)
export const IconSliders = ({ className }: P) =>
  svg(<><path d="M4 6.5h9M17 6.5h3M4 12h3M11 12h9M4 17.5h11M19 17.5h1" /><circle cx="15" cy="6.5" r="2" /><circle cx="9" cy="12" r="2" /><circle cx="17" cy="17.5" r="2" /></>, className)
export const IconDatabase = ({ className }: P) =>
  svg(<><ellipse cx="12" cy="6" rx="7.5" ry="2.75" /><path d="M4.5 6v12c0 1.5 3.4 2.75 7.5 2.75s7.5-1.25 7.5-2.75V6" /><path d="M4.5 12c0 1.5 3.4 2.75 7.5 2.75s7.5-1.25 7.5-2.75" /></>, className)
export const IconLaptop = ({ className }: P) =>
  svg(<><rect x="5" y="5" width="14" height="10" rx="1.5" /><path d="M3 19h18" /></>, className)
