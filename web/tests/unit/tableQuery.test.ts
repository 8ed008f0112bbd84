import { describe, expect, it } from 'vitest'
import { apiQuery, readQuery, sameQuery, writeQuery } from '@/core/tableQuery'

const defaults = { q: '', grade: '', tags: [] as string[], unowned: false }

describe('a table state in the URL', () => {
  it('reads filters by the type of their default and falls back on anything malformed', () => {
    const s = readQuery({ q: '日东', tags: ['a', 'b'], unowned: '1', page: '3', page_size: '50', other: 'x' }, defaults)
    expect(s).toEqual({ filters: { q: '日东', grade: '', tags: ['a', 'b'], unowned: true }, page: 3, pageSize: 50 })
    expect(readQuery({ tags: 'one' }, defaults).filters.tags).toEqual(['one'])
    expect(readQuery({ page: '-1', page_size: '7' }, defaults)).toMatchObject({ page: 1, pageSize: 20 })
    expect(readQuery({ page: 'abc', page_size: '100000000' }, defaults)).toMatchObject({ page: 1, pageSize: 20 })
    expect(readQuery({ q: ['first', 'second'] }, defaults).filters.q).toBe('first')
    expect(readQuery({ q: 'x'.repeat(500) }, defaults).filters.q).toHaveLength(200)
  })
  it('writes only what differs from the defaults and keeps keys the table does not own', () => {
    const q = writeQuery({ filters: { q: '日东', grade: '', tags: [], unowned: true }, page: 2, pageSize: 20 }, defaults, {
      drawer: 'c1',
      page: '9',
    })
    expect(q).toEqual({ drawer: 'c1', q: '日东', unowned: '1', page: '2' })
    expect(writeQuery({ filters: { ...defaults }, page: 1, pageSize: 20 }, defaults)).toEqual({})
  })
  it('round-trips: what is written reads back as the same state', () => {
    const state = { filters: { q: 'a b', grade: 'A', tags: ['t1', 't2'], unowned: true }, page: 4, pageSize: 100 }
    expect(readQuery(writeQuery(state, defaults), defaults)).toEqual(state)
  })
  it('asks the API with the page and the filters that are set', () => {
    expect(apiQuery({ filters: { q: '', grade: 'A', tags: ['x', 'y'], unowned: false }, page: 2, pageSize: 50 })).toEqual({
      page: 2,
      page_size: 50,
      grade: 'A',
      tags: 'x,y',
    })
  })
  it('compares queries whatever the order of their keys', () => {
    expect(sameQuery({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true)
    expect(sameQuery({ a: '1' }, { a: '2' })).toBe(false)
    expect(sameQuery({ a: '1', b: undefined }, { a: '1' })).toBe(true)
  })
})
