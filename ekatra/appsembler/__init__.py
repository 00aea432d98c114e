"""The Appsembler / Open edX API (/appsembler_api/v0) over the partner services: accounts,
enrollment codes (the partner coupons), bulk enrollment and analytics batches."""
