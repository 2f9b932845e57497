// Domain types live in src/shared (the contract); core re-exports them.
export * from '../../shared/domain'
